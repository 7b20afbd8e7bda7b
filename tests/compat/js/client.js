// Runs iota.js (@iota/core) calls against a node and prints what they resolve to, as JSON.
//
//   node client.js http://127.0.0.1:14265 < calls.json
//
// calls.json is a list of [method, ...arguments], e.g. [["getBalances", ["ADDRESS..."]]]; the
// output is a list of {"ok": result} or {"error": message}, one per call, in order.
'use strict'

const { composeAPI } = require('@iota/core')

async function main () {
  const provider = process.argv[2]
  const calls = JSON.parse(require('fs').readFileSync(0, 'utf8'))
  const iota = composeAPI({ provider })
  const results = []
  for (const [method, ...args] of calls) {
    try {
      results.push({ ok: await iota[method](...args) })
    } catch (error) {
      results.push({ error: String((error && error.message) || error) })
    }
  }
  process.stdout.write(JSON.stringify(results))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
