// JWT HS256 sign and verify: @authcore/node-auth-core (native, keys cached) vs
// jsonwebtoken 9, fast-jwt and jose, on node-auth's access-token claim set.
import jwt from 'jsonwebtoken'
import { createSigner, createVerifier } from 'fast-jwt'
import * as jose from 'jose'
import { loadAuthcore, perCall, perCallAsync, table, writeResults, fmt } from './common.mjs'

const { TokenService, native } = await loadAuthcore()

const secret = 'node-auth-access-secret-0123456789'
const key = new TextEncoder().encode(secret)
const claims = { sub: 'u1', email: 'alice@example.com', role: 'user', loginProvider: 'local', isEmailVerified: true, isTotpEnabled: false }
const config = { accessTokenSecret: secret, refreshTokenSecret: secret + '-r' }
const exp = Math.floor(Date.now() / 1000) + 3600
const token = jwt.sign({ ...claims, exp }, secret)

const ours = new native.KeySet()
ours.addHmac(secret)
const svc = new TokenService()
const fastSign = createSigner({ key: secret, algorithm: 'HS256' })
const fastVerify = createVerifier({ key: secret, algorithms: ['HS256'] })
const payloadText = JSON.stringify({ ...claims, iat: exp - 3600, exp })

// Every implementation must accept the same token (and agree on its claims).
for (const v of [
  JSON.parse(ours.verifyNode(token)),
  svc.verifyAccessToken(token, config),
  fastVerify(token),
  (await jose.jwtVerify(token, key)).payload,
]) {
  if (v.sub !== 'u1' || v.exp !== exp) throw new Error('verification mismatch')
}

const rows = []
const add = (op, impl, ns) => rows.push({ op, impl, 'µs/op': fmt(ns / 1000, 2), 'ops/s': Math.round(1e9 / ns) })

add('sign', 'authcore (KeySet.sign, payload text)', perCall(() => ours.sign(payloadText)))
add('sign', 'authcore (TokenService.generateTokenPair / 2)', perCall(() => svc.generateTokenPair(claims, config)) / 2)
add('sign', 'jsonwebtoken 9 (string secret)', perCall(() => jwt.sign({ ...claims }, secret, { expiresIn: '15m' })))
add('sign', 'fast-jwt', perCall(() => fastSign({ ...claims })))
add('sign', 'jose (async)', await perCallAsync(() => new jose.SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('15m').sign(key)))

add('verify', 'authcore (KeySet.verifyNode + JSON.parse)', perCall(() => JSON.parse(ours.verifyNode(token, 'access'))))
add('verify', 'authcore (TokenService.verifyAccessToken)', perCall(() => svc.verifyAccessToken(token, config)))
add('verify', 'jsonwebtoken 9 (string secret)', perCall(() => jwt.verify(token, secret)))
add('verify', 'fast-jwt', perCall(() => fastVerify(token)))
add('verify', 'jose (async)', await perCallAsync(() => jose.jwtVerify(token, key)))

table(rows, ['op', 'impl', 'µs/op', 'ops/s'])
const ns = (impl, op) => 1e9 / rows.find((r) => r.op === op && r.impl.startsWith(impl))['ops/s']
const ourVerify = ns('authcore (TokenService', 'verify')
const goals = {
  hs256VerifyVsJsonwebtoken: +(ns('jsonwebtoken', 'verify') / ourVerify).toFixed(2),
  hs256VerifyVsFastJwt: +(ns('fast-jwt', 'verify') / ourVerify).toFixed(2),
}
goals.met = goals.hs256VerifyVsJsonwebtoken >= 2 && goals.hs256VerifyVsFastJwt >= 1
console.log(`\nHS256 verify (drop-in TokenService): ${goals.hs256VerifyVsJsonwebtoken}x jsonwebtoken, ${goals.hs256VerifyVsFastJwt}x fast-jwt -> goal (>=2x, >=1x) ${goals.met ? 'MET' : 'NOT MET'}`)
console.log('wrote', writeResults('node-auth-jwt', { rows, goals }))
