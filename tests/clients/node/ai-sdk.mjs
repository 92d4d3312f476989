// The AI SDK (`ai`) over one provider package from argv: openai (`openai(id)`: the Responses API),
// openai-chat (`openai.chat(id)`), openai-compatible, anthropic.
import { APICallError, Output, embed, embedMany, generateObject, generateText, stepCountIs, streamText, tool } from "ai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { Invoice, Weather, check, checkVector, env, failPrimaries, rejection, run, startsWith } from "./common.mjs";

const openai = (key) => createOpenAI({ baseURL: `${env.url}/v1`, apiKey: key });
// Without supportsStructuredOutputs the provider sends a bare json_object, the schema nowhere.
const compatible = (key) =>
  createOpenAICompatible({
    name: "gateway", baseURL: `${env.url}/v1`, apiKey: key, includeUsage: true, supportsStructuredOutputs: true,
  });
// flavour -> [language model of a key and a model id, embedding model of a key (if tested)]
const providers = {
  openai: [(key, id) => openai(key)(id), (key) => openai(key).embedding(env.embeddingModel)],
  "openai-chat": [(key, id) => openai(key).chat(id)],
  "openai-compatible": [(key, id) => compatible(key).chatModel(id), (key) => compatible(key).embeddingModel(env.embeddingModel)],
  anthropic: [(key, id) => createAnthropic({ baseURL: `${env.url}/v1`, apiKey: key })(id)],
};
const flavour = process.argv[2];
const family = flavour === "anthropic" ? "claude" : "chat";
const model = (key = env.key, id = family) => providers[flavour][0](key, id);
const embedder = providers[flavour][1];
const { hello, failover, tokens, providers: [primary, secondary] } = env.expect[family];
const options = { prompt: "hi", maxRetries: 0 };
// The AI SDK's OpenAI provider stores by default and then sends its earlier answers as `item_reference`
// items, which the gateway's response store resolves; with store: false it sends the items themselves.
const STATELESS = { openai: { store: false } };

/** A second turn after the first answer, in the messages the SDK gave back for it. */
async function secondTurn(providerOptions) {
  const first = await generateText({ model: model(), ...options, providerOptions });
  const messages = [{ role: "user", content: "hi" }, ...first.response.messages, { role: "user", content: "again" }];
  return (await generateText({ model: model(), messages, maxRetries: 0, providerOptions })).text;
}

async function streamed(m, extra = {}) {
  const result = streamText({ model: m, ...options, ...extra, onError: () => {} });
  let out = "";
  for await (const piece of result.textStream) out += piece;
  return { out, usage: await result.usage, steps: await result.steps };
}

/** A tool-using run: the tool's result goes back, the model answers with it. `during` runs inside the tool. */
async function toolRun(m, stream, during = async () => {}) {
  const weather = tool({
    description: "Weather for a city.",
    inputSchema: Weather,
    execute: async (input) => {
      Weather.parse(input);
      await during();
      return `sunny in ${input.city}`;
    },
  });
  const params = { model: m, ...options, prompt: "weather?", tools: { weather }, stopWhen: stepCountIs(3) };
  const result = stream ? await streamed(m, params) : await generateText(params);
  const { steps } = result;
  const text = stream ? result.out : result.text;
  check(steps.length === 2, `${steps.length} steps`);
  const [call] = steps[0].toolCalls;
  check(steps[0].toolCalls.length === 1 && call.toolName === "weather", JSON.stringify(steps[0].toolCalls));
  check(text === `Tool said: sunny in ${call.input.city}`, JSON.stringify(text));
  return steps.map((step) => step.response.headers?.["x-gateway-provider"]);
}

const checks = {
  chat: async () => startsWith((await generateText({ model: model(), ...options })).text, hello),
  stream: async () => startsWith((await streamed(model())).out, hello),
  usage: async () => {
    const { usage } = await generateText({ model: model(), ...options });
    check(usage.outputTokens === tokens && usage.inputTokens >= 1, JSON.stringify(usage));
    const streamedUsage = (await streamed(model())).usage;
    check(streamedUsage.outputTokens === tokens, JSON.stringify(streamedUsage));
  },
  tools: async () => {
    await toolRun(model(), false);
    await toolRun(model(), true);
  },
  multiturn: async () => startsWith(await secondTurn(STATELESS), hello),
  structured: async () => {
    const result = await generateText({ model: model(), ...options, output: Output.object({ schema: Invoice }) });
    Invoice.parse(result.output);
    Invoice.parse((await generateObject({ model: model(), ...options, schema: Invoice })).object);
  },
  errors: async () => {
    const error = await rejection(generateText({ model: model(env.badKey), ...options }));
    check(APICallError.isInstance(error) && error.statusCode === 401, `${error}`);
    const missing = await rejection(generateText({ model: model(env.key, "no-such-model"), ...options }));
    check(APICallError.isInstance(missing) && missing.statusCode === 404, `${missing}`);
  },
};
if (flavour === "openai") checks["multiturn-stored"] = async () => startsWith(await secondTurn(undefined), hello);
if (embedder) {
  checks.embeddings = async () => {
    const one = await embed({ model: embedder(env.key), value: "one", maxRetries: 0 });
    checkVector(one.embedding);
    check(one.usage.tokens >= 1, JSON.stringify(one.usage));
    const many = await embedMany({ model: embedder(env.key), values: ["one", "two"], maxRetries: 0 });
    check(many.embeddings.length === 2 && many.embeddings[0].every((v, i) => Math.abs(v - one.embedding[i]) < 1e-6), "embedMany");
    const error = await rejection(embed({ model: embedder(env.badKey), value: "one", maxRetries: 0 }));
    check(APICallError.isInstance(error) && error.statusCode === 401, `${error}`);
  };
}
checks.failover = async () => {
  const m = model();
  startsWith((await generateText({ model: m, ...options })).text, hello);
  // The run's first step is served by the first deployment; the fault comes on while the tool runs.
  const served = await toolRun(m, false, failPrimaries);
  check(served[0] === primary && served[1] === secondary, JSON.stringify(served));
  startsWith((await generateText({ model: m, ...options })).text, failover);
  startsWith((await streamed(m)).out, failover);
  await toolRun(m, true);
  if (embedder) {
    const { response } = await embed({ model: embedder(env.key), value: "one", maxRetries: 0 });
    check(response?.headers?.["x-gateway-provider"] === secondary, JSON.stringify(response?.headers));
  }
};
await run(checks);
