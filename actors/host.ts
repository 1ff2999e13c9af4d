// Worker-thread entry: load the user's functions, then hand every message to an ActorThread.
// Kept tiny on purpose: tap cannot measure coverage inside worker threads.
import { parentPort, workerData } from 'node:worker_threads';
import { loadFunctions } from '../functions/load.js';
import { ActorThread } from './thread.js';
import type { FromActor, ToActor } from './messages.js';

const port = parentPort!;
const functions = await loadFunctions((workerData as { functionsModule: string }).functionsModule);
const thread = new ActorThread(functions, (m: FromActor, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []));
port.on('message', (m: ToActor) => thread.handle(m));
port.postMessage({ t: 'ready' } satisfies FromActor);
