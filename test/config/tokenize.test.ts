// configuration.txt §2.2–2.4 line splitting, one rule per case (src/tools.c parse_line).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tokenizeLine, MAX_LINE_ARGS, type TokenizeContext } from '../../lib/config/tokenize.js'

const ctx: TokenizeContext = { env: { HOME: '/home/u', LIST: 'a  b c', EMPTY: '' }, file: 'x.cfg', line: 7, section: 'frontend' }
const words = (line: string): string[] => {
  const r = tokenizeLine(line, ctx)
  assert.equal(r.error, null, `unexpected error for ${JSON.stringify(line)}: ${r.error}`)
  return r.words
}

const cases: Array<[string, string, string[]]> = [
  ['spaces and tabs separate words; leading ones are skipped', ' \t bind\t 127.0.0.1:80 ', ['bind', '127.0.0.1:80']],
  ['# starts a comment anywhere outside quotes', 'bind :80#comment', ['bind', ':80']],
  ['# after spaces', 'default_backend be   # fallback', ['default_backend', 'be']],
  ['# inside double quotes is kept', 'x "a#b"', ['x', 'a#b']],
  ['# inside single quotes is kept', "x 'a#b'", ['x', 'a#b']],
  ['\\# escapes the comment sign', 'x a\\#b', ['x', 'a#b']],
  ['double quotes group words', 'x "a b  c"', ['x', 'a b  c']],
  ['quotes join with adjacent text', 'x pre"a b"post', ['x', 'prea bpost']],
  ['single quotes are literal: no escapes, no variables', "x 'a\\tb ${HOME}'", ['x', 'a\\tb ${HOME}']],
  ['a double quote inside single quotes', `x '"'`, ['x', '"']],
  ['a single quote inside double quotes', `x "'"`, ['x', "'"]],
  ['backslash-space joins words', 'x a\\ b', ['x', 'a b']],
  ['backslash escapes: \\\\ \\t \\n \\r', 'x a\\\\b\\tc\\nd\\re', ['x', 'a\\b\tc\nd\re']],
  ['\\xHH is a byte', 'x \\x41\\x2f', ['x', 'A/']],
  ['\\" outside quotes is a quote character', 'x a\\"b', ['x', 'a"b']],
  ["\\' is a quote character", "x a\\'b", ['x', "a'b"]],
  ['other backslash sequences stay as they are', 'x \\1\\d', ['x', '\\1\\d']],
  ['a trailing backslash is a plain character (no continuation)', 'x a \\', ['x', 'a', '\\']],
  ['${VAR} expands inside double quotes', 'x "${HOME}/y"', ['x', '/home/u/y']],
  ['$VAR without braces expands inside double quotes', 'x "$HOME"', ['x', '/home/u']],
  ['${VAR} is literal outside quotes', 'x ${HOME}', ['x', '${HOME}']],
  ['an unset variable expands to nothing', 'x "a${NOPE}b"', ['x', 'ab']],
  ['${VAR-default} when unset', 'x "${NOPE-dflt value}"', ['x', 'dflt value']],
  ['${VAR-default} when set', 'x "${HOME-dflt}"', ['x', '/home/u']],
  ['${VAR-default} when set to empty keeps the empty value', 'x "[${EMPTY-d}]"', ['x', '[]']],
  ['"${VAR[*]}" splits the value into words', 'x "${LIST[*]}" y', ['x', 'a', 'b', 'c', 'y']],
  ['\\$ inside double quotes is a dollar', 'x "\\${HOME}"', ['x', '${HOME}']],
  ['pseudo-variables .LINE .FILE .SECTION', 'x "${.LINE}" "${.FILE}" "${.SECTION}"', ['x', '7', 'x.cfg', 'frontend']],
  ['an empty quoted word in the middle is kept', 'x "" y', ['x', '', 'y']],
  ['an empty quoted word at the end is dropped (parse_line)', 'x ""', ['x']],
  ['CR ends the line', 'x y\r', ['x', 'y']],
  ['an empty line has no words', '   ', []],
  ['a comment line has no words', '   # nothing', []]
]

for (const [name, line, expected] of cases) {
  test(`tokenize: ${name}`, () => assert.deepEqual(words(line), expected))
}

const errors: Array<[string, string, RegExp]> = [
  ['unterminated double quote, with position and caret', '    http-request set-header X-A "a b c', /^unmatched quote at position 33:\n {2}http-request set-header X-A "a b c\n {30}\^$/],
  ['unterminated single quote', "x 'abc", /^unmatched quote at position 3:/],
  ['bad hex sequence', 'x \\x4g', /^truncated or invalid hexadecimal sequence at position 3:/],
  ['unclosed brace', 'x "${HOME"', /^unmatched brace in environment variable name at position 5:/],
  ['bad variable first char', 'x "$1"', /^forbidden first char in environment variable name at position 5:/],
  ['bad word expansion', 'x "${LIST[x]}"', /^truncated or invalid word expansion sequence at position 10:/],
  ['unknown pseudo-variable', 'x "${.NOPE}"', /^forbidden first char in environment variable name/]
]

for (const [name, line, re] of errors) {
  test(`tokenize error: ${name}`, () => {
    const r = tokenizeLine(line, ctx)
    assert.deepEqual(r.words, [])
    assert.match(r.error ?? '', re)
  })
}

test('tokenize: more than 64 words is an error naming the last kept word', () => {
  const line = Array.from({ length: MAX_LINE_ARGS + 1 }, (_, i) => `w${i}`).join(' ')
  const r = tokenizeLine(line, ctx)
  assert.match(r.error ?? '', /^too many words, truncating after word 64, position \d+: <w63>\.$/)
  assert.equal(tokenizeLine(line.split(' ').slice(0, MAX_LINE_ARGS).join(' '), ctx).error, null)
})

test('tokenize error: a long line is shown as an 80-column window around the culprit', () => {
  const early = '    http-request set-header X-Long-Header-Name-For-Testing-Purposes "' + 'a'.repeat(80)
  const e1 = tokenizeLine(early, ctx).error!.split('\n')
  assert.equal(e1[1], '  ' + early.trim().slice(0, 80))
  assert.equal(e1[2], '  ' + ' '.repeat(64) + '^')
  const late = '    http-request set-header X-Long-Header-Name-For-Testing-Purposes-And-More-And-More-And-Even-More-Text-Here x "aaa'
  const e2 = tokenizeLine(late, ctx).error!.split('\n')
  assert.equal(e2[0], 'unmatched quote at position 113:')
  assert.equal(e2[1], '  ...e-And-More-And-Even-More-Text-Here x "aaa...')
  assert.equal(e2[2], '  ' + ' '.repeat(40) + '^')
})
