/** B0: a bare Fastify GET route, the ceiling for every other scenario on this machine. */
import Fastify from 'fastify'
import { serve } from '../lib/child.js'

const app = Fastify()
app.get('/', async () => ({ hello: 'world' }))
await serve(app)
