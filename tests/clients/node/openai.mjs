// The openai npm package, major version from argv (4, 5 or 6), over chat completions, the Responses
// API and legacy completions, with embeddings and the model endpoints beside them.
import { Invoice, INVOICE_SCHEMA, Weather, WEATHER_SCHEMA, check, checkVector, env, failPrimaries, rejection, run, startsWith } from "./common.mjs";

const packages = { 4: "openai-v4", 5: "openai-v5", 6: "openai" };
const { default: OpenAI } = await import(packages[process.argv[2]]);
const { zodTextFormat } = await import(`${packages[process.argv[2]]}/helpers/zod`);
const client = (key = env.key) => new OpenAI({ baseURL: `${env.url}/v1`, apiKey: key, maxRetries: 0, timeout: 20000 });
const { hello, failover, tokens, providers: [, secondary] } = env.expect.chat;
const HI = [{ role: "user", content: "hi" }];
const RESPONSES_WEATHER = { type: "function", name: "weather", parameters: WEATHER_SCHEMA, strict: true };

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

async function responseText(sdk) {
  return (await sdk.responses.create({ model: "chat", input: "hi" })).output_text;
}

/** The Responses API streamed: the text deltas, and the response of `response.completed`. */
async function responseStreamed(sdk, params = {}) {
  const stream = await sdk.responses.create({ model: "chat", input: "hi", ...params, stream: true });
  let out = "";
  let final = null;
  for await (const event of stream) {
    if (event.type === "response.output_text.delta") out += event.delta;
    if (event.type === "response.completed") final = event.response;
  }
  check(final !== null, "no response.completed event");
  return { out, final };
}

/** A function call, its output sent back as `function_call_output`, and the answer that uses it. */
async function responsesToolRoundTrip(sdk, stream) {
  const input = [{ role: "user", content: "weather?" }];
  const params = { model: "chat", input, tools: [RESPONSES_WEATHER] };
  const first = stream ? (await responseStreamed(sdk, params)).final : await sdk.responses.create(params);
  const calls = first.output.filter((item) => item.type === "function_call");
  check(calls.length === 1 && calls[0].name === "weather", JSON.stringify(first.output));
  const { city } = Weather.parse(JSON.parse(calls[0].arguments));
  input.push(...first.output, { type: "function_call_output", call_id: calls[0].call_id, output: `sunny in ${city}` });
  const answer = await sdk.responses.create({ ...params, input });
  check(answer.output_text === `Tool said: sunny in ${city}`, JSON.stringify(answer.output_text));
}

async function completionText(sdk) {
  return (await sdk.completions.create({ model: "chat", prompt: "hi" })).choices[0].text;
}

async function embedding(sdk, encoding_format) {
  const params = { model: env.embeddingModel, input: ["one", "two"], ...(encoding_format ? { encoding_format } : {}) };
  const { data, response } = await sdk.embeddings.create(params).withResponse();
  check(data.data.length === 2 && data.model === env.embeddingModel && data.usage.prompt_tokens >= 1, JSON.stringify(data.usage));
  data.data.forEach((item) => checkVector(item.embedding));
  return { vectors: data.data.map((item) => item.embedding), provider: response.headers.get("x-gateway-provider") };
}

// One text call per endpoint the SDK reaches through the gateway.
const textEndpoints = {
  "chat.completions": text,
  responses: responseText,
  "responses stream": async (sdk) => (await responseStreamed(sdk)).out,
  completions: completionText,
};

await run({
  chat: async () => {
    for (const [name, call] of Object.entries(textEndpoints)) {
      try {
        startsWith(await call(client()), hello);
      } catch (error) {
        throw new Error(`${name}: ${error.message}`);
      }
    }
  },
  stream: async () => startsWith((await streamed(client())).out, hello),
  usage: async () => {
    const completion = await client().chat.completions.create({ model: "chat", messages: HI });
    check(completion.usage.completion_tokens === tokens, `usage ${JSON.stringify(completion.usage)}`);
    check((await streamed(client())).usage?.completion_tokens === tokens, "no usage chunk");
    const whole = (await client().responses.create({ model: "chat", input: "hi" })).usage;
    const final = (await responseStreamed(client())).final.usage;
    for (const usage of [whole, final]) {
      check(usage.output_tokens === tokens && usage.total_tokens === usage.input_tokens + usage.output_tokens, JSON.stringify(usage));
    }
  },
  tools: async () => {
    const tools = [{ type: "function", function: { name: "weather", parameters: WEATHER_SCHEMA } }];
    const completion = await client().chat.completions.create({ model: "chat", messages: HI, tools });
    const call = completion.choices[0].message.tool_calls[0];
    check(call.function.name === "weather", call.function.name);
    Weather.parse(JSON.parse(call.function.arguments));
    await responsesToolRoundTrip(client(), false);
    await responsesToolRoundTrip(client(), true);
  },
  structured: async () => {
    const response_format = { type: "json_schema", json_schema: { name: "invoice", schema: INVOICE_SCHEMA, strict: true } };
    const completion = await client().chat.completions.create({ model: "chat", messages: HI, response_format });
    Invoice.parse(JSON.parse(completion.choices[0].message.content));
    const format = { type: "json_schema", name: "invoice", schema: INVOICE_SCHEMA, strict: true };
    Invoice.parse(JSON.parse((await client().responses.create({ model: "chat", input: "hi", text: { format } })).output_text));
    const parsed = await client().responses.parse({ model: "chat", input: "hi", text: { format: zodTextFormat(Invoice, "invoice") } });
    Invoice.parse(parsed.output_parsed);
  },
  errors: async () => {
    const error = await rejection(text(client(env.badKey)));
    check(error instanceof OpenAI.AuthenticationError && error.status === 401, `${error}`);
    const missing = await rejection(client().chat.completions.create({ model: "no-such-model", messages: HI }));
    check(missing instanceof OpenAI.NotFoundError, `${missing}`);
    check((await rejection(responseText(client(env.badKey)))) instanceof OpenAI.AuthenticationError, "responses 401");
    const streamMissing = await rejection(responseStreamed(client(), { model: "no-such-model" }));
    check(streamMissing instanceof OpenAI.NotFoundError, `${streamMissing}`);
    const wrongMode = await rejection(client().embeddings.create({ model: "chat", input: "hi" }));
    check(wrongMode instanceof OpenAI.BadRequestError, `${wrongMode}`);
  },
  embeddings: async () => {
    const base64 = await embedding(client()); // the SDK's default: base64, decoded by the SDK
    const floats = await embedding(client(), "float");
    check(base64.vectors.every((v, i) => v.every((x, j) => Math.abs(x - floats.vectors[i][j]) < 1e-6)), "base64 != float");
  },
  models: async () => {
    const model = await client().models.retrieve(env.embeddingModel);
    check(model.id === env.embeddingModel && model.object === "model", JSON.stringify(model));
    check((await rejection(client().models.retrieve("no-such-model"))) instanceof OpenAI.NotFoundError, "404");
  },
  failover: async () => {
    const sdk = client();
    startsWith(await text(sdk), hello);
    startsWith(await responseText(sdk), hello);
    await failPrimaries();
    startsWith(await text(sdk), failover);
    startsWith((await streamed(sdk)).out, failover);
    startsWith(await responseText(sdk), failover);
    startsWith((await responseStreamed(sdk)).out, failover);
    await responsesToolRoundTrip(sdk, true);
    startsWith(await completionText(sdk), failover);
    check((await embedding(sdk)).provider === secondary, "embeddings served by the first deployment");
  },
});
