import { describe, expect, test } from "vitest";
import {
  asFault,
  callParams,
  decodeResponse,
  encodeCall,
  encodeValue,
  XmlRpcParseError,
} from "../../../src/sources/koji/xmlrpc.ts";

describe("encode", () => {
  test("koji.md §8 request: positional tag, the rest as a __starstar struct", () => {
    const xml = encodeCall(
      "listTaggedRPMS",
      callParams(["f40-build"], {
        event: 123456789,
        inherit: true,
        latest: true,
        package: undefined,
      }),
    );
    expect(xml).toBe(
      "<?xml version='1.0'?>\n<methodCall><methodName>listTaggedRPMS</methodName><params>" +
        "<param><value><string>f40-build</string></value></param>" +
        "<param><value><struct>" +
        "<member><name>event</name><value><int>123456789</int></value></member>" +
        "<member><name>inherit</name><value><boolean>1</boolean></value></member>" +
        "<member><name>latest</name><value><boolean>1</boolean></value></member>" +
        "<member><name>__starstar</name><value><boolean>1</boolean></value></member>" +
        "</struct></value></param></params></methodCall>\n",
    );
  });

  test("no keywords set: no struct at all", () => {
    expect(callParams([1], { a: undefined })).toEqual([1]);
  });

  test("nil, i8 beyond 32 bits, doubles, escaping, arrays, base64", () => {
    expect(encodeValue(null)).toBe("<value><nil/></value>");
    expect(encodeValue(2 ** 31 - 1)).toBe("<value><int>2147483647</int></value>");
    expect(encodeValue(2 ** 31)).toBe("<value><i8>2147483648</i8></value>");
    expect(encodeValue(-(2 ** 31) - 1)).toBe("<value><i8>-2147483649</i8></value>");
    expect(encodeValue(1.5)).toBe("<value><double>1.5</double></value>");
    expect(encodeValue("a<b&c>")).toBe("<value><string>a&lt;b&amp;c&gt;</string></value>");
    expect(encodeValue([1, "x"])).toBe(
      "<value><array><data><value><int>1</int></value><value><string>x</string></value></data></array></value>",
    );
    expect(encodeValue(new Uint8Array([104, 105]))).toBe("<value><base64>aGk=</base64></value>");
    expect(() => encodeValue(2 ** 60)).toThrow(RangeError);
    expect(() => encodeValue(Number.NaN)).toThrow(RangeError);
  });
});

describe("decode", () => {
  test("koji.md §8 response with the hub's newlines: [rpms, builds], nil epoch, strings, ints, booleans", () => {
    const xml = `<?xml version='1.0'?>
<methodResponse>
<params>
<param>
<value><array><data>
<value><array><data>
<value><struct>
<member>
<name>arch</name>
<value><string>x86_64</string></value>
</member>
<member>
<name>epoch</name>
<value><nil/></value></member>
<member>
<name>id</name>
<value><i8>38000000001</i8></value>
</member>
<member>
<name>draft</name>
<value><boolean>0</boolean></value>
</member>
<member>
<name>sigkey</name>
<value><string></string></value>
</member>
<member>
<name>ts</name>
<value><double>1714039872.123</double></value>
</member>
<member>
<name>name</name>
<value>bare &amp; text</value>
</member>
</struct></value>
</data></array></value>
<value><array><data>
</data></array></value>
</data></array></value>
</param>
</params>
</methodResponse>
`;
    expect(decodeResponse(xml)).toEqual({
      ok: true,
      value: [
        [
          {
            arch: "x86_64",
            epoch: null,
            id: 38000000001,
            draft: false,
            sigkey: "",
            ts: 1714039872.123,
            name: "bare & text",
          },
        ],
        [],
      ],
    });
  });

  test("koji.md §8 fault", () => {
    const xml = `<?xml version='1.0'?>
<methodResponse><fault><value><struct>
<member><name>faultCode</name><value><int>1000</int></value></member>
<member><name>faultString</name><value><string>No such tagInfo: 'f99-build'</string></value></member>
</struct></value></fault></methodResponse>`;
    expect(decodeResponse(xml)).toEqual({
      ok: false,
      fault: { faultCode: 1000, faultString: "No such tagInfo: 'f99-build'" },
    });
  });

  test("multicall slots: [result] or a fault struct with a traceback", () => {
    const xml = `<methodResponse><params><param><value><array><data>
<value><array><data><value><int>7</int></value></data></array></value>
<value><struct><member><name>faultCode</name><value><int>1000</int></value></member>
<member><name>faultString</name><value><string>Invalid method: x</string></value></member>
<member><name>traceback</name><value><array><data><value><string>Traceback</string></value></data></array></value></member>
</struct></value>
</data></array></value></param></params></methodResponse>`;
    const r = decodeResponse(xml);
    expect(r.ok).toBe(true);
    if (!r.ok || !Array.isArray(r.value)) throw new Error("not a list");
    expect(r.value[0]).toEqual([7]);
    expect(asFault(r.value[1] ?? null)).toEqual({
      faultCode: 1000,
      faultString: "Invalid method: x",
    });
    expect(asFault([7])).toBeUndefined();
  });

  test("empty forms, i4, dateTime, base64, __proto__ stays an own member", () => {
    const xml =
      "<methodResponse><params><param><value><struct>" +
      "<member><name>a</name><value><string/></value></member>" +
      "<member><name>b</name><value><array><data/></array></value></member>" +
      "<member><name>c</name><value><i4>-3</i4></value></member>" +
      "<member><name>d</name><value><dateTime.iso8601>20240425T10:11:12</dateTime.iso8601></value></member>" +
      "<member><name>e</name><value><base64>aGk=</base64></value></member>" +
      "<member><name>__proto__</name><value><int>1</int></value></member>" +
      "<member><name>f</name><value></value></member>" +
      "</struct></value></param></params></methodResponse>";
    const r = decodeResponse(xml);
    if (!r.ok) throw new Error("fault");
    const v = r.value as Record<string, unknown>;
    expect(v.a).toBe("");
    expect(v.b).toEqual([]);
    expect(v.c).toBe(-3);
    expect(v.d).toBe("20240425T10:11:12");
    expect(v.e).toEqual(new Uint8Array([104, 105]));
    expect(Object.getOwnPropertyDescriptor(v, "__proto__")?.value).toBe(1);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v.f).toBe("");
  });

  test("malformed answers are XmlRpcParseErrors", () => {
    for (const bad of [
      "",
      "<html>oops</html>",
      "<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
      "<methodResponse><params><param><value><bogus>1</bogus></value></param></params></methodResponse>",
      "<methodResponse><params><param><value><array><data><value><int>1</int>",
      "<methodResponse><fault><value><struct></struct></value></fault></methodResponse>",
      "<methodResponse><params><param><value><i8>99999999999999999999</i8></value></param></params></methodResponse>",
    ])
      expect(() => decodeResponse(bad), bad).toThrow(XmlRpcParseError);
  });
});
