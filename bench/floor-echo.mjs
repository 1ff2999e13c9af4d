#!/usr/bin/env node
// Keep-raw-bytes-and-echo floor worker (`buffer_input`, launch:/unix only): see bench/floor/server.mjs.
import { main } from './floor/server.mjs';
await main('echo');
