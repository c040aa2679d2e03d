// The shared vectors through the uniffi-generated Kotlin (bindings-uniffi), on the JVM
// with JNA: the same files and ops as tests/test_uniffi_vectors.py. Run by
// scripts/uniffi-kotlin.sh: `java ... VectorRunnerKt <ffi-tests/vectors>`; prints
// "N passed, 0 failed" and exits 0, or lists every failing case and exits 1.

import authcore.*
import java.io.File

// ---- A small JSON reader that keeps each value's source text (the message vectors are
// signed over the exact JSON, lone-surrogate escapes included). ----

class J(val v: Any?, val raw: String) {
    @Suppress("UNCHECKED_CAST")
    val obj: Map<String, J> get() = v as Map<String, J>
    @Suppress("UNCHECKED_CAST")
    val arr: List<J> get() = v as List<J>
    val str: String get() = v as String
    val num: Double get() = v as Double
    val bool: Boolean get() = v as Boolean
    operator fun get(k: String): J? = obj[k]
    fun has(k: String) = obj.containsKey(k)
}

class JsonReader(private val s: String) {
    private var i = 0
    private fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }
    fun read(): J {
        ws()
        val start = i
        val v: Any? = when (s[i]) {
            '{' -> {
                i++
                val m = LinkedHashMap<String, J>()
                ws()
                if (s[i] == '}') i++ else while (true) {
                    ws()
                    val k = read().str
                    ws(); check(s[i] == ':'); i++
                    m[k] = read()
                    ws()
                    if (s[i] == ',') { i++; continue }
                    check(s[i] == '}'); i++; break
                }
                m
            }
            '[' -> {
                i++
                val l = ArrayList<J>()
                ws()
                if (s[i] == ']') i++ else while (true) {
                    l.add(read())
                    ws()
                    if (s[i] == ',') { i++; continue }
                    check(s[i] == ']'); i++; break
                }
                l
            }
            '"' -> string()
            't' -> { i += 4; true }
            'f' -> { i += 5; false }
            'n' -> { i += 4; null }
            else -> {
                while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
                s.substring(start, i).toDouble()
            }
        }
        return J(v, s.substring(start, i))
    }
    private fun string(): String {
        i++
        val b = StringBuilder()
        while (s[i] != '"') {
            if (s[i] == '\\') {
                i++
                when (val c = s[i]) {
                    'u' -> { b.append(s.substring(i + 1, i + 5).toInt(16).toChar()); i += 4 }
                    'n' -> b.append('\n')
                    't' -> b.append('\t')
                    'r' -> b.append('\r')
                    'b' -> b.append('\b')
                    'f' -> b.append('\u000c')
                    else -> b.append(c)
                }
                i++
            } else b.append(s[i++])
        }
        i++
        return b.toString()
    }
}

fun parse(text: String) = JsonReader(text).read()

// ---- Comparison of a result with the vector's "ok" value. ----

fun same(got: Any?, want: J): Boolean = when (val w = want.v) {
    null -> got == null
    is Boolean -> got == w
    is String -> got == w
    is Double -> when (got) {
        is Double -> got == w
        is Long -> got.toDouble() == w
        is ULong -> got.toDouble() == w
        else -> false
    }
    is List<*> -> got is List<*> && got.size == want.arr.size && got.indices.all { same(got[it], want.arr[it]) }
    is Map<*, *> -> got is Map<*, *> && got.keys == want.obj.keys && want.obj.all { (k, v) -> same(got[k], v) }
    else -> false
}

fun J.toValue(): Any? = when (v) {
    is Map<*, *> -> obj.mapValues { it.value.toValue() }
    is List<*> -> arr.map { it.toValue() }
    else -> v
}

fun jsonValue(text: String): Any? = parse(text).toValue()

class CaseError(val code: String, val status: Int) : Exception()

fun codeOf(e: AuthcoreException): CaseError = when (e) {
    is AuthcoreException.Hmac -> CaseError(e.code, e.status.toInt())
    is AuthcoreException.Totp -> CaseError(e.code, e.status.toInt())
    is AuthcoreException.Pkce -> CaseError(e.code, e.status.toInt())
    is AuthcoreException.Jwt -> CaseError(e.code, e.status.toInt())
}

fun hex(s: String): ByteArray = ByteArray(s.length / 2) { s.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

fun body(inp: J): ByteArray = when {
    inp.has("bodyHex") -> hex(inp["bodyHex"]!!.str)
    inp.has("body") -> inp["body"]!!.str.toByteArray(Charsets.UTF_8)
    else -> ByteArray(0)
}

fun message(inp: J) = MessageInput(
    clientId = inp["clientId"]!!.str,
    messageJson = inp["message"]!!.raw,
    secret = inp["secret"]!!.str,
    secretIsHashed = inp["secretIsHashed"]?.bool ?: false,
    hashToken = inp["hashToken"]?.v as String?,
)

fun hmacOp(op: String, inp: J): Any? = when (op) {
    "hash_client_secret" -> hashClientSecret(inp["secret"]!!.str, inp["secretToken"]?.v as String?)
    "hash_body" -> hashBody(body(inp))
    "build_signing_payload" -> buildSigningPayload(
        inp["method"]!!.str, inp["path"]!!.str, inp["timestamp"]!!.num, inp["nonce"]!!.str, body(inp))
    "sign_request" -> signRequest(
        inp["method"]!!.str, inp["path"]!!.str, inp["timestamp"]!!.num, inp["nonce"]!!.str, body(inp), inp["secret"]!!.str)
    "normalize_path" -> normalizePath(inp["path"]!!.str)
    "safe_equal_hex" -> safeEqualHex(inp["a"]!!.str, inp["b"]!!.str)
    "message_canonical" -> messageCanonical(inp["message"]!!.raw)
    "sign_message" -> signMessage(message(inp)).let {
        mapOf("clientId" to it.clientId, "messageHash" to it.messageHash, "signature" to it.signature)
    }
    "verify_message" -> verifyMessage(message(inp), inp["signature"]!!.str)
    "verify_with_record" -> {
        val headers = inp["headers"]!!.obj.map { (name, value) ->
            val first = if (value.v is List<*>) value.arr.firstOrNull()?.str else value.str
            HttpHeader(name, first)
        }
        val v = verifyWithRecord(VerifyRequest(
            method = inp["method"]!!.str,
            path = inp["path"]!!.str,
            headers = headers,
            body = body(inp),
            nowMs = inp["now"]!!.num,
            maxSkewMs = inp["maxSkewMs"]?.num,
            record = inp["record"]?.v as String?,
            metadata = IpMetadata(ips = inp["ipCandidates"]?.arr?.map { it.str } ?: emptyList()),
        ))
        check(v.nonceTtlSeconds > 0)
        mapOf("clientId" to v.clientId, "timestamp" to v.timestamp, "nonce" to v.nonce, "signature" to v.signature)
    }
    else -> throw IllegalStateException("unknown op $op")
}

val ALGS = mapOf("SHA1" to TotpAlgorithm.SHA1, "SHA256" to TotpAlgorithm.SHA256, "SHA512" to TotpAlgorithm.SHA512)
val JWT_ALGS = mapOf("RS256" to JwtAlgorithm.RS256, "ES256" to JwtAlgorithm.ES256, "EdDSA" to JwtAlgorithm.ED_DSA)

fun otherOp(op: String, inp: J): Any? = when (op) {
    "pkce_s256_challenge" -> pkceS256Challenge(inp["verifier"]!!.str)
    "pkce_verify" -> {
        pkceVerify(inp["verifier"]!!.str, inp["challenge"]!!.str, inp["method"]!!.str, allowPlain = true)
        true
    }
    "totp_generate_raw" -> totpGenerateRaw(hex(inp["secretHex"]!!.str), inp["time"]!!.num.toLong().toULong(),
        TotpConfig(algorithm = ALGS.getValue(inp["algorithm"]!!.str), digits = inp["digits"]!!.num.toInt().toUInt(),
            period = inp["period"]!!.num.toLong().toULong()))
    "totp_generate" -> totpGenerate(inp["secret"]!!.str, inp["time"]!!.num.toLong().toULong())
    "totp_verify" -> totpVerify(inp["code"]!!.str, inp["secret"]!!.str, inp["now"]!!.num.toLong().toULong(),
        TotpConfig(window = inp["window"]!!.num.toLong().toULong()), inp["lastUsedStep"]?.num?.toLong()?.toULong())
    "totp_otpauth_url" -> totpOtpauthUrl(inp["issuer"]!!.str, inp["account"]!!.str, inp["secret"]!!.str)
    "jwt_verify_pem" -> {
        val validation = JwtValidation(now = inp["now"]!!.num.toLong().toULong(),
            issuers = inp["issuer"]?.let { listOf(it.str) } ?: emptyList())
        val pinned = JwksVerifier.fromPublicPem(JWT_ALGS.getValue(inp["alg"]!!.str), inp["publicKeyPem"]!!.str)
        val viaJwks = JwksVerifier.fromJwks(pinned.jwksJson())
        // Both forms give the same answer, error or claims.
        val a = runCatching { jsonValue(pinned.verify(inp["token"]!!.str, validation).claimsJson) }
        val b = runCatching { jsonValue(viaJwks.verify(inp["token"]!!.str, validation).claimsJson) }
        check(a.getOrNull() == b.getOrNull())
        check((a.exceptionOrNull() as? AuthcoreException)?.let { codeOf(it).code } ==
            (b.exceptionOrNull() as? AuthcoreException)?.let { codeOf(it).code })
        a.getOrThrow()
    }
    "jwks_from_pem" -> jsonValue(JwksVerifier.fromPublicPem(
        JWT_ALGS.getValue(inp["alg"]!!.str), inp["publicKeyPem"]!!.str, inp["kid"]!!.str).jwksJson())
    else -> throw IllegalStateException("unknown op $op")
}

val NOT_IN_SUBSET = setOf("ip_allowed", "normalize_allowed_ips", "parse_record", "jwt_sign_pem")

fun main(args: Array<String>) {
    val dir = File(args[0])
    var passed = 0
    val failed = ArrayList<String>()
    fun run(id: String, expect: J, call: () -> Any?) {
        val outcome = try {
            val got = call()
            if (expect.has("ok") && same(got, expect["ok"]!!)) null else "got $got, want ${expect.raw}"
        } catch (e: AuthcoreException) {
            val c = codeOf(e)
            val want = expect["error"]?.str
            val status = expect["status"]?.num?.toInt()
            if (want == c.code && (status == null || status == c.status)) null
            else "error ${c.code} ${c.status}, want ${expect.raw}"
        } catch (e: Throwable) {
            "threw $e"
        }
        if (outcome == null) passed++ else failed.add("$id: $outcome")
    }
    // Upstream schema: hash-client-secret and sign-request.
    for (c in parse(File(dir, "naskot/hash-client-secret.json").readText())["cases"]!!.arr) {
        val token = c["secretToken"]!!.str
        run("hash:" + c["id"]!!.str, parse("""{"ok":${c["expectedHex"]!!.raw}}""")) {
            hashClientSecret(c["secret"]!!.str, token.ifEmpty { null })
        }
    }
    for (c in parse(File(dir, "naskot/sign-request.json").readText())["cases"]!!.arr) {
        run("sign:" + c["id"]!!.str, parse("""{"ok":${c["expectedHex"]!!.raw}}""")) {
            signRequest(c["method"]!!.str, c["path"]!!.str, c["timestamp"]!!.num, c["nonce"]!!.str,
                c["body"]!!.str.toByteArray(Charsets.UTF_8), c["secret"]!!.str)
        }
    }
    var left = 0
    val files = (dir.listFiles { f -> f.name.startsWith("hmac-") && f.name.endsWith(".json") }!!.sorted()) +
        listOf("pkce-rfc7636.json", "totp-rfc6238.json", "jwt-asymmetric.json").map { File(dir, it) }
    for (f in files) {
        for (c in parse(f.readText())["cases"]!!.arr) {
            val op = c["op"]!!.str
            if (op in NOT_IN_SUBSET) { left++; continue }
            val call = if (f.name.startsWith("hmac-")) { { hmacOp(op, c["input"]!!) } } else { { otherOp(op, c["input"]!!) } }
            run(f.name + ":" + c["id"]!!.str, c["expect"]!!, call)
        }
    }
    // A signed request verifies once through the server path, then a changed body does not.
    val h = signRequestHeaders(SignHeadersInput(method = "post", url = "/v1/messages?x=1",
        body = "{}".toByteArray(), clientId = "app_k", secret = "secret_k"))
    val record = """{"secretHash":"${hashClientSecret("secret_k")}","createdAt":1,"updatedAt":1,"expiresAt":null,"allowedIps":[]}"""
    fun req(b: String) = VerifyRequest(method = "POST", path = "/v1/messages?x=1",
        headers = listOf(HttpHeader("x-client-id", h.clientId), HttpHeader("x-signature", h.signature),
            HttpHeader("x-timestamp", h.timestamp), HttpHeader("x-nonce", h.nonce)),
        body = b.toByteArray(), nowMs = h.timestamp.toDouble(), record = record)
    run("roundtrip:ok", parse("""{"ok":"app_k"}""")) { verifyWithRecord(req("{}")).clientId }
    run("roundtrip:tampered", parse("""{"error":"BAD_SIGNATURE","status":401}""")) { verifyWithRecord(req("{ }")) }

    for (line in failed) System.err.println("FAIL $line")
    check(left in 1..passed / 4) { "cases outside the subset: $left" }
    println("kotlin vectors: $left cases outside the uniffi subset (credential management, JWT signing)")
    println("$passed passed, ${failed.size} failed")
    if (failed.isNotEmpty() || passed < 300) kotlin.system.exitProcess(1)
}
