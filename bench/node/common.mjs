// Helpers of the HMAC Node benchmarks: the shared ones (bench/common.mjs), with results
// labelled by the addon build the run loaded.
import * as shared from '../common.mjs'

export const { perCall, percentile, table } = shared

export function writeResults(name, data) {
  const native = process.env.NAPI_RS_NATIVE_LIBRARY_PATH ? 'release (bench-fast profile)' : 'debug'
  return shared.writeResults(name, data, native)
}
