// prepack starts from an empty dist/: files of a deleted or renamed source module must not ship.
import { rmSync } from 'node:fs'
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true })
