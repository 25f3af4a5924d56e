import assert from "node:assert/strict";
import { ReplicaSocket } from "../../lib/sim/sockets.ts";

Deno.test("ReplicaSocket hands over each datagram intact, with its sender's port, until closed", async () => {
  const socket = ReplicaSocket.open();
  const replica = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const replicaPort = (replica.addr as Deno.NetAddr).port;
  const arrived: { bytes: Uint8Array; fromPort: number }[] = [];
  let allArrived: () => void = () => {};
  const three = new Promise<void>((resolve) => allArrived = resolve);
  const receiving = socket.receive((bytes, fromPort) => {
    // The socket receives into one buffer: what it hands over must be a copy of its own.
    arrived.push({ bytes, fromPort });
    if (arrived.length === 3) allArrived();
  });
  try {
    const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: socket.port };
    for (const bytes of [[1, 2, 3], [4, 5], [6]]) await replica.send(new Uint8Array(bytes), to);
    await three;
    assert.deepEqual(arrived.map(({ bytes }) => [...bytes]), [[1, 2, 3], [4, 5], [6]]);
    assert.deepEqual(arrived.map(({ fromPort }) => fromPort), [
      replicaPort,
      replicaPort,
      replicaPort,
    ]);
  } finally {
    socket.close();
    replica.close();
  }
  await receiving;
  assert.equal(socket.closed, true);
});
