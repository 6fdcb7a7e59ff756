/** Per-user task lists: another user's task is simply not found. */
import { randomUUID } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { bodyErrors, errorBody, unauthorized } from './error-schemas.js'

const Task = Type.Object({ id: Type.String(), title: Type.String(), done: Type.Boolean(), createdAt: Type.String({ format: 'date-time' }) })
type Task = Static<typeof Task>
const NewTask = Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }) })
const TaskParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const MAX_TASKS_PER_USER = 500

/** Returns how to forget a user's tasks (their account is deleted). */
export function taskRoutes (app: FastifyInstance): (userId: string) => void {
  const tasks = new Map<string, Task[]>()
  const listOf = (userId: string): Task[] => {
    let list = tasks.get(userId)
    if (list === undefined) tasks.set(userId, list = [])
    return list
  }
  const security = [{ bearerAuth: [] }]

  app.get('/tasks', {
    preHandler: app.authenticate,
    schema: { tags: ['tasks'], security, response: { 200: Type.Object({ tasks: Type.Array(Task) }), 401: unauthorized() } } as object
  }, async (request) => ({ tasks: listOf(request.user.id) }))

  app.post<{ Body: Static<typeof NewTask> }>('/tasks', {
    preHandler: app.authenticate,
    schema: { tags: ['tasks'], security, body: NewTask, response: { 201: Task, ...bodyErrors(), 401: unauthorized(), 409: errorBody(409, ['DEMO_TOO_MANY_TASKS']) } } as object
  }, async (request, reply) => {
    const list = listOf(request.user.id)
    if (list.length >= MAX_TASKS_PER_USER) {
      return reply.code(409).send({ statusCode: 409, code: 'DEMO_TOO_MANY_TASKS', error: 'Conflict', message: `At most ${MAX_TASKS_PER_USER} tasks` })
    }
    const task = { id: randomUUID(), title: request.body.title, done: false, createdAt: new Date().toISOString() }
    list.push(task)
    return reply.code(201).send(task)
  })

  app.delete<{ Params: Static<typeof TaskParams> }>('/tasks/:id', {
    preHandler: app.authenticate,
    schema: { tags: ['tasks'], security, params: TaskParams, response: { 204: Type.Null(), 400: errorBody(400, ['FST_ERR_VALIDATION']), 401: unauthorized(), 404: errorBody(404, ['DEMO_TASK_NOT_FOUND']) } } as object
  }, async (request, reply) => {
    const list = listOf(request.user.id)
    const index = list.findIndex((task) => task.id === request.params.id)
    if (index === -1) return reply.code(404).send({ statusCode: 404, code: 'DEMO_TASK_NOT_FOUND', error: 'Not Found', message: 'No such task' })
    list.splice(index, 1)
    return reply.code(204).send()
  })
  return (userId) => { tasks.delete(userId) }
}
