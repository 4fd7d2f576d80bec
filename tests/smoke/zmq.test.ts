import * as zmq from "zeromq";
import { Signer, encode, decode, makeHeader } from "nbforge/dist/jupyter/wire.js";
test("zeromq loads and wire roundtrips", async () => {
  const s = new Signer("k");
  const h = makeHeader("x", "s");
  const m = decode(s, encode(s, { identities: [], header: h, parent_header: {}, metadata: {}, content: { a: 1 } }));
  expect(m.content).toEqual({ a: 1 });
  expect(typeof zmq.version).toBe("string");
});
