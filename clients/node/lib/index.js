// SPDX-License-Identifier: BSD-3-Clause
// index.js - the headcount Node client's entry point: the session
// (session.js) and the protocol toolkit (proto.js) for those who need it.
'use strict';

const { Session, STATE } = require('./session');
const proto = require('./proto');

module.exports = { Session, STATE, open: (options) => Session.open(options), proto };
