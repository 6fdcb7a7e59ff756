// tsc does not copy non-TS files: the Lua scripts ship beside the compiled store.
import { cpSync } from 'node:fs'
cpSync(new URL('../src/store/lua', import.meta.url), new URL('../dist/store/lua', import.meta.url), { recursive: true })
