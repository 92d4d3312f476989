// Shared by the client scripts: the gateway's address, the answers to expect, the schemas the
// simulator fills, the simulator's fault switch, and the runner that reports each check.
import { z } from "zod";

export const env = {
  url: process.env.GATEWAY_URL,
  key: process.env.GATEWAY_KEY,
  badKey: process.env.GATEWAY_BAD_KEY,
  sim: process.env.SIM_URL,
  expect: JSON.parse(process.env.GATEWAY_EXPECT), // {chat|claude: {hello, failover, tokens, providers}}
  primaries: JSON.parse(process.env.GATEWAY_PRIMARIES),
  embeddingModel: process.env.GATEWAY_EMBEDDING_MODEL,
  embeddingSize: Number(process.env.GATEWAY_EMBEDDING_SIZE),
};

export const Weather = z.object({ city: z.string(), unit: z.enum(["c", "f"]), days: z.number().int().min(1).max(7) });
export const WEATHER_SCHEMA = {
  type: "object",
  properties: {
    city: { type: "string" },
    unit: { type: "string", enum: ["c", "f"] },
    days: { type: "integer", minimum: 1, maximum: 7 },
  },
  required: ["city", "unit", "days"],
  additionalProperties: false,
};
const Line = z.object({ item: z.string(), quantity: z.number().int().min(1).max(9) });
export const Invoice = z.object({
  number: z.string(),
  email: z.string().email(),
  total: z.number().min(0),
  lines: z.array(Line).min(1).max(3),
});
export const INVOICE_SCHEMA = {
  type: "object",
  properties: {
    number: { type: "string" },
    email: { type: "string", format: "email" },
    total: { type: "number", minimum: 0 },
    lines: { type: "array", items: { $ref: "#/$defs/Line" }, minItems: 1, maxItems: 3 },
  },
  required: ["number", "email", "total", "lines"],
  additionalProperties: false,
  $defs: {
    Line: {
      type: "object",
      properties: { item: { type: "string" }, quantity: { type: "integer", minimum: 1, maximum: 9 } },
      required: ["item", "quantity"],
      additionalProperties: false,
    },
  },
};

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export function startsWith(text, prefix) {
  check(typeof text === "string" && text.startsWith(prefix), `expected ${JSON.stringify(prefix)}..., got ${JSON.stringify(text)}`);
}

/** A vector of the embedding model's size, of length 1 (the simulator's are unit vectors). */
export function checkVector(vector) {
  check(Array.isArray(vector) && vector.length === env.embeddingSize, `a vector of ${vector?.length} numbers`);
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  check(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
}

/** The simulator answers 503 for every first deployment: the gateway must fail over. */
export async function failPrimaries() {
  for (const provider of env.primaries) {
    const response = await fetch(`${env.sim}/_control/faults/${provider}`, {
      method: "PUT",
      body: JSON.stringify({ status: 503 }),
    });
    check(response.ok, `fault switch: ${response.status}`);
  }
}

/** Expect `promise` to reject; returns the error for the caller's checks. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, the call succeeded");
}

/** Run each named check in order; print {name: null | "error"} as one JSON line. */
export async function run(checks) {
  const results = {};
  for (const [name, fn] of Object.entries(checks)) {
    try {
      await fn();
      results[name] = null;
    } catch (error) {
      results[name] = `${error?.constructor?.name}: ${error?.message}`.slice(0, 2000);
    }
  }
  console.log(JSON.stringify(results));
}
