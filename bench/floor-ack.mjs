#!/usr/bin/env node
// Acknowledge-only floor worker (`noop_buffer`): see bench/floor/server.mjs.
import { main } from './floor/server.mjs';
await main('ack');
