/** `npm run demo`: the Tasks API on HOST:PORT. */
import { buildTasksApi } from './app.js'
import { readConfig } from './config.js'

const config = readConfig()
const { app } = await buildTasksApi(config, { logger: { level: process.env.LOG_LEVEL ?? 'info' } })
const close = async (): Promise<void> => { await app.close(); process.exit(0) }
process.once('SIGINT', close)
process.once('SIGTERM', close)
await app.listen({ host: config.host, port: config.port })
console.log(`listening on http://${config.host}:${config.port}`)
