import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'scratch/**', 'test-output/**', '.tap/**']
  }),
  {
    rules: {
      // `void reply.send(...)` marks a promise deliberately not awaited (Fastify's own idiom).
      'no-void': ['error', { allowAsStatement: true }],
      // TypeBox's idiom: a schema value and its Static type share one name.
      '@typescript-eslint/no-redeclare': 'off'
    }
  },
  {
    // Type tests declare values only to read their types.
    files: ['test/types/**'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' }
  }
]
