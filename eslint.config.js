// One lint and format authority for the repository: neostandard (the successor of
// `standard` for ESLint 9) with its TypeScript support, run by `npm run lint` (and so by
// `npm test`); `npm run lint:fix` applies what it can fix itself.
import neostandard from 'neostandard'

export default [
  {
    // build output, installs, the dashboard's static browser assets, benchmark results
    ignores: ['**/dist/', '**/node_modules/', 'packages/simplepool/dashboard/', 'bench/results/', 'docs/api/']
  },
  ...neostandard({ ts: true, noJsx: true }),
  {
    rules: {
      // `void promise` as a statement marks a deliberate fire-and-forget (as ts-standard allows)
      'no-void': ['error', { allowAsStatement: true }],
      // loops here poll a flag that a callback or another async task sets, which this rule cannot see
      'no-unmodified-loop-condition': 'off'
    }
  },
  {
    files: ['**/test/**/*.ts'],
    rules: {
      // chai's property assertions (`expect(x).to.be.NaN`) are expressions by design
      '@typescript-eslint/no-unused-expressions': 'off'
    }
  }
]
