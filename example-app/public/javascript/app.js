// served by the example's static upstream (path_beg /javascript, path_end .js)
console.log('hello from the static backend')
