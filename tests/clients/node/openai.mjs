// The openai npm package, major version from argv (4, 5 or 6), over chat completions.
import { Invoice, INVOICE_SCHEMA, Weather, WEATHER_SCHEMA, check, env, failPrimaries, rejection, run, startsWith } from "./common.mjs";

const packages = { 4: "openai-v4", 5: "openai-v5", 6: "openai" };
const { default: OpenAI } = await import(packages[process.argv[2]]);
const client = (key = env.key) => new OpenAI({ baseURL: `${env.url}/v1`, apiKey: key, maxRetries: 0, timeout: 20000 });
const { hello, failover, tokens } = env.expect.chat;
const HI = [{ role: "user", content: "hi" }];

async function text(sdk) {
  const completion = await sdk.chat.completions.create({ model: "chat", messages: HI });
  return completion.choices[0].message.content;
}

async function streamed(sdk) {
  const stream = await sdk.chat.completions.create({ model: "chat", messages: HI, stream: true, stream_options: { include_usage: true } });
  let out = "";
  let usage = null;
  for await (const chunk of stream) {
    out += chunk.choices[0]?.delta?.content ?? "";
    usage = chunk.usage ?? usage;
  }
  return { out, usage };
}

// One text call per endpoint the SDK reaches through the gateway; the Responses API joins here.
const textEndpoints = { "chat.completions": text };

await run({
  chat: async () => {
    for (const call of Object.values(textEndpoints)) startsWith(await call(client()), hello);
  },
  stream: async () => startsWith((await streamed(client())).out, hello),
  usage: async () => {
    const completion = await client().chat.completions.create({ model: "chat", messages: HI });
    check(completion.usage.completion_tokens === tokens, `usage ${JSON.stringify(completion.usage)}`);
    check((await streamed(client())).usage?.completion_tokens === tokens, "no usage chunk");
  },
  tools: async () => {
    const tools = [{ type: "function", function: { name: "weather", parameters: WEATHER_SCHEMA } }];
    const completion = await client().chat.completions.create({ model: "chat", messages: HI, tools });
    const call = completion.choices[0].message.tool_calls[0];
    check(call.function.name === "weather", call.function.name);
    Weather.parse(JSON.parse(call.function.arguments));
  },
  structured: async () => {
    const response_format = { type: "json_schema", json_schema: { name: "invoice", schema: INVOICE_SCHEMA, strict: true } };
    const completion = await client().chat.completions.create({ model: "chat", messages: HI, response_format });
    Invoice.parse(JSON.parse(completion.choices[0].message.content));
  },
  errors: async () => {
    const error = await rejection(text(client(env.badKey)));
    check(error instanceof OpenAI.AuthenticationError && error.status === 401, `${error}`);
    const missing = await rejection(client().chat.completions.create({ model: "no-such-model", messages: HI }));
    check(missing instanceof OpenAI.NotFoundError, `${missing}`);
  },
  failover: async () => {
    const sdk = client();
    startsWith(await text(sdk), hello);
    await failPrimaries();
    startsWith(await text(sdk), failover);
    startsWith((await streamed(sdk)).out, failover);
  },
});
