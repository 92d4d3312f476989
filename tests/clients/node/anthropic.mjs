// @anthropic-ai/sdk against the gateway's /v1/messages and its model list (in Anthropic's shape).
import Anthropic from "@anthropic-ai/sdk";
import { Invoice, INVOICE_SCHEMA, Weather, WEATHER_SCHEMA, check, env, failPrimaries, rejection, run, startsWith } from "./common.mjs";

const client = (key = env.key) => new Anthropic({ baseURL: env.url, apiKey: key, maxRetries: 0, timeout: 20000 });
const { hello, failover, tokens } = env.expect.claude;
const base = { model: "claude", max_tokens: 500, messages: [{ role: "user", content: "hi" }] };

async function text(sdk) {
  const message = await sdk.messages.create(base);
  return message.content.map((block) => block.text ?? "").join("");
}

async function streamed(sdk) {
  const stream = sdk.messages.stream(base);
  let out = "";
  stream.on("text", (piece) => { out += piece; });
  const final = await stream.finalMessage();
  return { out, final };
}

await run({
  chat: async () => startsWith(await text(client()), hello),
  stream: async () => startsWith((await streamed(client())).out, hello),
  usage: async () => {
    const message = await client().messages.create(base);
    check(message.usage.output_tokens === tokens && message.usage.input_tokens >= 1, JSON.stringify(message.usage));
    check((await streamed(client())).final.usage.output_tokens === tokens, "streamed usage");
  },
  tools: async () => {
    const tools = [{ name: "weather", description: "Weather for a city.", input_schema: WEATHER_SCHEMA }];
    const message = await client().messages.create({ ...base, tools, tool_choice: { type: "tool", name: "weather" } });
    const block = message.content[0];
    check(block.type === "tool_use" && message.stop_reason === "tool_use", JSON.stringify(message.content));
    Weather.parse(block.input);
  },
  structured: async () => {
    const output_config = { format: { type: "json_schema", schema: INVOICE_SCHEMA } };
    const message = await client().messages.create({ ...base, output_config });
    Invoice.parse(JSON.parse(message.content[0].text));
  },
  errors: async () => {
    const error = await rejection(text(client(env.badKey)));
    check(error instanceof Anthropic.AuthenticationError && error.status === 401, `${error}`);
    const missing = await rejection(client().messages.create({ ...base, model: "no-such-model" }));
    check(missing instanceof Anthropic.NotFoundError, `${missing}`);
  },
  models: async () => {
    const ids = [];
    for await (const model of client().models.list({ limit: 1 })) ids.push(model.id); // follows after_id
    check(ids.includes("claude") && ids.includes(env.embeddingModel), JSON.stringify(ids));
    const model = await client().models.retrieve("claude");
    check(model.id === "claude" && model.type === "model", JSON.stringify(model));
    check((await rejection(client().models.retrieve("no-such-model"))) instanceof Anthropic.NotFoundError, "404");
    check((await rejection(client(env.badKey).models.list())) instanceof Anthropic.AuthenticationError, "401");
  },
  failover: async () => {
    const sdk = client();
    startsWith(await text(sdk), hello);
    await failPrimaries();
    startsWith(await text(sdk), failover);
    startsWith((await streamed(sdk)).out, failover);
  },
});
