'use strict'
// The one native addon of authcore (also used by @authcore/node-hmac-auth-core).
module.exports = require('@authcore/native')
