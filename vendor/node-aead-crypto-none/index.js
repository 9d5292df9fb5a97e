'use strict';
throw new Error('node-aead-crypto stand-in: use node:crypto (Node >= 10)');
