import assert from "node:assert/strict";
import { UdpTransport } from "../../lib/net/udp.ts";

function listen(): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
}

function portOf(conn: Deno.DatagramConn): number {
  return (conn.addr as Deno.NetAddr).port;
}

Deno.test("UdpTransport sends every datagram to the simulator's port", async () => {
  const simulator = listen();
  const transport = UdpTransport.open({ simulatorPort: portOf(simulator) });
  try {
    await transport.send(new Uint8Array([7, 8]));
    const [payload, from] = await simulator.receive();
    assert.deepEqual([...payload], [7, 8]);
    assert.deepEqual({ ...from }, {
      transport: "udp",
      hostname: "127.0.0.1",
      port: transport.localPort,
    });
  } finally {
    transport.close();
    simulator.close();
  }
});

Deno.test("UdpTransport yields datagrams from the simulator and drops those from elsewhere", async () => {
  const simulator = listen();
  const stranger = listen();
  const foreign: number[] = [];
  const transport = UdpTransport.open({
    simulatorPort: portOf(simulator),
    onForeignDatagram: (from) => foreign.push(from.port),
  });
  const address: Deno.NetAddr = {
    transport: "udp",
    hostname: "127.0.0.1",
    port: transport.localPort,
  };
  try {
    await stranger.send(new Uint8Array([9]), address);
    await simulator.send(new Uint8Array([1]), address);
    for await (const payload of transport) {
      assert.deepEqual([...payload], [1]);
      break;
    }
    assert.deepEqual(foreign, [portOf(stranger)]);
  } finally {
    transport.close();
    stranger.close();
    simulator.close();
  }
});

Deno.test("UdpTransport ends a pending iteration quietly when closed", async () => {
  const simulator = listen();
  const transport = UdpTransport.open({ simulatorPort: portOf(simulator) });
  try {
    const drained = (async () => {
      const payloads: Uint8Array[] = [];
      for await (const payload of transport) payloads.push(payload);
      return payloads;
    })();
    transport.close();
    transport.close();
    assert.deepEqual(await drained, []);
  } finally {
    simulator.close();
  }
});

Deno.test("UdpTransport refuses a simulator port out of range", () => {
  for (const simulatorPort of [0, -1, 65_536, 1.5, Number.NaN]) {
    assert.throws(() => UdpTransport.open({ simulatorPort }), RangeError, String(simulatorPort));
  }
});

Deno.test("UdpTransport payloads stay intact once later datagrams arrive", async () => {
  const simulator = listen();
  const transport = UdpTransport.open({ simulatorPort: portOf(simulator) });
  const address: Deno.NetAddr = {
    transport: "udp",
    hostname: "127.0.0.1",
    port: transport.localPort,
  };
  try {
    // The transport receives into one buffer; each payload must be a copy of its own.
    for (const bytes of [[1, 2, 3], [4, 5], [6]]) {
      await simulator.send(new Uint8Array(bytes), address);
    }
    const payloads: Uint8Array[] = [];
    for await (const payload of transport) {
      payloads.push(payload);
      if (payloads.length === 3) break;
    }
    assert.deepEqual(payloads.map((payload) => [...payload]), [[1, 2, 3], [4, 5], [6]]);
  } finally {
    transport.close();
    simulator.close();
  }
});
