// `default-path { current | config | parent | origin <path> }` (configuration.txt §3.1): where the
// relative file names of the lines after it are found. Observed on HAProxy 2.6.12: a setting
// holds until the next one, in the files read after it too; `config` and `parent` name the
// directory of the file holding the line that names a file (and that directory's parent),
// `origin` its own directory (a relative one from the current directory), `current` the
// current directory.

import { dirname, isAbsolute, resolve } from 'node:path'
import type { Loc, ParsedConfig } from './model.js'

export type DefaultPath = { mode: 'current' | 'config' | 'parent' } | { mode: 'origin', dir: string }

/** A `default-path` line, in config order. */
export interface DefaultPathLine {
  file: string
  line: number
  setting: DefaultPath
}

/** The directory relative names resolve against under `setting`, for a line of `file`. */
export function baseDirectory (setting: DefaultPath, file: string): string {
  switch (setting.mode) {
    case 'current': return process.cwd()
    case 'config': return dirname(resolve(file))
    case 'parent': return dirname(dirname(resolve(file)))
    case 'origin': return resolve(setting.dir)
  }
}

/**
 * Where the file a line names is read: a relative name under the `default-path` in force at that
 * line; unchanged when none was written before it (read from the current directory).
 */
export function configFilePath (config: ParsedConfig, at: Loc | undefined, name: string): string {
  const lines = config.defaultPaths
  if (lines === undefined || at === undefined || isAbsolute(name)) return name
  const fileIndex = config.files.indexOf(at.file)
  let setting: DefaultPath | null = null
  for (const l of lines) {
    const i = config.files.indexOf(l.file)
    if (i > fileIndex || (i === fileIndex && l.line > at.line)) break
    setting = l.setting
  }
  return setting === null ? name : resolve(baseDirectory(setting, at.file), name)
}
