/**
 * OpenTelemetry without an SDK: the plugin wraps nothing (the core runs on the very store it
 * exposes, routes work as ever), and an SDK installed after `register` sees nothing from that
 * app (the plugin decides once, at register, as the README says); an app registered after the
 * SDK is installed is observed. Its own file: global providers are per process.
 */
import t, { type Test } from 'tap'
import { metrics, trace } from '@opentelemetry/api'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { FastifyInstance } from 'fastify'
import { ALICE, buildApp, login } from './helpers/build-app.js'
import { INSTRUMENTATION_NAME } from '../src/telemetry.js'

class TestReader extends MetricReader {
  protected override async onShutdown (): Promise<void> {}
  protected override async onForceFlush (): Promise<void> {}
}

async function loginRefreshLogout (t: Test, app: FastifyInstance): Promise<void> {
  const { refreshToken } = await login(app, ALICE)
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: refreshToken } })
  t.equal(refreshed.statusCode, 200, 'refresh')
  const next = refreshed.cookies.find((c) => c.name === 'refresh_token')!.value
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', cookies: { refresh_token: next } })).statusCode, 204, 'logout')
  t.equal((await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { refresh_token: next } })).statusCode, 401, 'logged out')
}

t.test('no SDK: nothing wrapped, everything works; an SDK installed later sees only apps registered after it', async (t) => {
  const before = await buildApp(t)
  const { sessions, store } = before.app.refreshSessions
  t.equal(sessions.store, store, 'no SDK: the core runs on the store itself, not on an instrumented wrapper')
  await loginRefreshLogout(t, before.app)

  const reader = new TestReader()
  const exporter = new InMemorySpanExporter()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  metrics.setGlobalMeterProvider(meterProvider)
  trace.setGlobalTracerProvider(tracerProvider)
  t.teardown(async () => {
    metrics.disable()
    trace.disable()
    await meterProvider.shutdown()
    await tracerProvider.shutdown()
  })
  const ours = async () => (await reader.collect()).resourceMetrics.scopeMetrics.filter((s) => s.scope.name === INSTRUMENTATION_NAME).flatMap((s) => s.metrics.flatMap((m) => m.dataPoints as unknown[]))

  await loginRefreshLogout(t, before.app)
  t.strictSame(await ours(), [], 'the app registered before the SDK records no metric')
  t.strictSame(exporter.getFinishedSpans(), [], 'and no span')

  const after = await buildApp(t)
  t.not(after.app.refreshSessions.sessions.store, after.app.refreshSessions.store, 'registered with an SDK: instrumented')
  await loginRefreshLogout(t, after.app)
  t.ok((await ours()).length > 0, 'the app registered after the SDK records metrics')
  t.ok(exporter.getFinishedSpans().some((s) => s.name === 'refresh-sessions.refresh'), 'and spans')
})
