// tsc does not copy non-TS files: the Lua scripts ship beside the compiled store.
import { cpSync } from 'node:fs'
cpSync(new URL('../src/redis/lua', import.meta.url), new URL('../dist/redis/lua', import.meta.url), { recursive: true })
