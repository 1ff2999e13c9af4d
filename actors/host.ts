// Worker-thread entry: load the user's functions, then hand every message to an ActorThread.
// Kept tiny on purpose: tap cannot measure coverage inside worker threads.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadFunctions } from '../functions/load.js';
import { ActorThread } from './thread.js';
import { installKernelPort } from './kernels.js';
import type { FromActor, ToActor } from './messages.js';
import { configureSpill } from './spill.js';

const port = parentPort!;
const kernelPort = (workerData as { kernelPort?: MessagePort }).kernelPort;
if (kernelPort) installKernelPort(kernelPort); // params.runKernel → the runtime's kernel pool
// Memory budget: this thread's share, and the spill root (actors/spill.ts); absent = no spilling.
configureSpill({ budgetBytes: (workerData as { memoryBudgetBytes?: number }).memoryBudgetBytes, root: (workerData as { spillRoot?: string }).spillRoot });
const functions = await loadFunctions((workerData as { functionsModule: string }).functionsModule);
const thread = new ActorThread(functions, (m: FromActor, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []));
port.on('message', (m: ToActor) => thread.handle(m));
port.postMessage({ t: 'ready' } satisfies FromActor);
