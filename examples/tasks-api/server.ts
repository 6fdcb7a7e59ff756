/**
 * `npm run demo`: the Tasks API on HOST:PORT. Logs are pretty on a terminal and JSON lines
 * otherwise (see logging.ts); LOG_LEVEL sets the level (info).
 */
import { buildTasksApi } from './app.js'
import { readConfig } from './config.js'
import { demoLogging } from './logging.js'

const config = readConfig()
const logging = await demoLogging({ level: process.env.LOG_LEVEL ?? 'info', pretty: process.stdout.isTTY === true })
const { app } = await buildTasksApi(config, logging)
const close = async (): Promise<void> => { await app.close(); process.exit(0) }
process.once('SIGINT', close)
process.once('SIGTERM', close)
await app.listen({ host: config.host, port: config.port })
const address = app.server.address()
const port = address !== null && typeof address === 'object' ? address.port : config.port
// Passkeys need the page on a domain (the RP id), not an IP address: localhost, when it is local.
const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.host)
app.log.info(`Tasks demo: open http://${loopback ? 'localhost' : config.host}:${port} (API documentation at /docs)`)
