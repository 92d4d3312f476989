// The AI SDK (`ai`) over one provider package from argv: openai (openai.chat), openai-compatible, anthropic.
import { APICallError, Output, generateText, streamText, tool } from "ai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { Invoice, Weather, check, env, failPrimaries, rejection, run, startsWith } from "./common.mjs";

const providers = {
  openai: (key) => createOpenAI({ baseURL: `${env.url}/v1`, apiKey: key }).chat("chat"),
  // Without supportsStructuredOutputs the provider sends a bare json_object, the schema nowhere.
  "openai-compatible": (key) =>
    createOpenAICompatible({
      name: "gateway", baseURL: `${env.url}/v1`, apiKey: key, includeUsage: true, supportsStructuredOutputs: true,
    }).chatModel("chat"),
  anthropic: (key) => createAnthropic({ baseURL: `${env.url}/v1`, apiKey: key })("claude"),
};
const flavour = process.argv[2];
const model = (key = env.key) => providers[flavour](key);
const { hello, failover, tokens } = env.expect[flavour === "anthropic" ? "claude" : "chat"];
const options = { prompt: "hi", maxRetries: 0 };

async function streamed(m) {
  const result = streamText({ model: m, ...options, onError: () => {} });
  let out = "";
  for await (const piece of result.textStream) out += piece;
  return { out, usage: await result.usage };
}

await run({
  chat: async () => startsWith((await generateText({ model: model(), ...options })).text, hello),
  stream: async () => startsWith((await streamed(model())).out, hello),
  usage: async () => {
    const { usage } = await generateText({ model: model(), ...options });
    check(usage.outputTokens === tokens && usage.inputTokens >= 1, JSON.stringify(usage));
    const streamedUsage = (await streamed(model())).usage;
    check(streamedUsage.outputTokens === tokens, JSON.stringify(streamedUsage));
  },
  tools: async () => {
    const weather = tool({ description: "Weather for a city.", inputSchema: Weather });
    const result = await generateText({ model: model(), ...options, tools: { weather }, toolChoice: { type: "tool", toolName: "weather" } });
    check(result.toolCalls.length === 1 && result.toolCalls[0].toolName === "weather", JSON.stringify(result.toolCalls));
    Weather.parse(result.toolCalls[0].input);
  },
  structured: async () => {
    const result = await generateText({ model: model(), ...options, output: Output.object({ schema: Invoice }) });
    Invoice.parse(result.output);
  },
  errors: async () => {
    const error = await rejection(generateText({ model: model(env.badKey), ...options }));
    check(APICallError.isInstance(error) && error.statusCode === 401, `${error}`);
  },
  failover: async () => {
    const m = model();
    startsWith((await generateText({ model: m, ...options })).text, hello);
    await failPrimaries();
    startsWith((await generateText({ model: m, ...options })).text, failover);
    startsWith((await streamed(m)).out, failover);
  },
});
