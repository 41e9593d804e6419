// A front end against a served wanjia (tests/test_demo.py starts it on 127.0.0.1 over the demo):
// Apollo Client with the persisted-query link, as the README configures it, and a graphql-ws
// subscription that hears a notification raised by another client's mutation.
//
//   node live.mjs http://127.0.0.1:PORT wanqinglu <grid worker phone> <resident phone> <password>
//
// Exits 0 when every step held, 1 with the reason otherwise. Waits only on answers and
// messages, never on time.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [base, tenant, workerPhone, residentPhone, password] = process.argv.slice(2);
const endpoint = `${base}/graphql`;

function check(condition, reason) {
  if (!condition) throw new Error(reason);
}

async function post(query, variables, token) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Tenant": tenant, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  check(!body.errors, `${query.slice(0, 40)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function signIn(phone) {
  const data = await post(
    "mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken } errors { code } } }",
    { input: { phone, password } },
  );
  check(data.login.errors.length === 0, `sign-in of ${phone}: ${JSON.stringify(data.login.errors)}`);
  return data.login.tokens.accessToken;
}

// Every request the persisted-query link makes, as it goes over the wire.
const sent = [];
function recordingFetch(uri, options) {
  const url = new URL(uri);
  const body = options.body ? JSON.parse(options.body) : null;
  sent.push({ method: options.method ?? "GET", hasQuery: Boolean(body?.query ?? url.searchParams.get("query")) });
  return fetch(uri, options);
}

function apollo(token) {
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
      new HttpLink({ uri: endpoint, headers: { "X-Tenant": tenant, Authorization: `Bearer ${token}` }, fetch: recordingFetch }),
    ),
  });
}

const INBOX = gql`
  query LiveInbox {
    complaints(first: 5, order: DEADLINE) {
      totalCount
      edges { node { id title status viewerCan { accept } } }
    }
  }
`;

async function persistedQueries(workerToken) {
  const first = await apollo(workerToken).query({ query: INBOX });
  check(first.data.complaints.totalCount > 0, "the grid worker's inbox is empty");
  // Unknown hash first (GET, no text), then the text once the server answered PERSISTED_QUERY_NOT_FOUND.
  check(sent.length === 2 && sent[0].method === "GET" && !sent[0].hasQuery && sent[1].hasQuery, JSON.stringify(sent));
  sent.length = 0;
  const second = await apollo(workerToken).query({ query: INBOX });
  check(second.data.complaints.edges[0].node.id === first.data.complaints.edges[0].node.id, "another answer by hash");
  // Another client (a new cache): the hash alone is enough now, over GET.
  check(sent.length === 1 && sent[0].method === "GET" && !sent[0].hasQuery, JSON.stringify(sent));
  // The normalised cache holds each complaint once, under its id.
  const cache = apollo(workerToken);
  await cache.query({ query: INBOX });
  const keys = Object.keys(cache.cache.extract()).filter((key) => key.startsWith("Complaint:"));
  check(keys.length === first.data.complaints.edges.length, `cache keys ${keys}`);
}

async function subscription(workerToken, residentToken) {
  let pongs = 0;
  let listening;
  const ready = new Promise((resolve) => (listening = resolve));
  const client = createClient({
    url: endpoint.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${workerToken}` },
    // The server answers a ping only once every subscription started before it is listening
    // (README): the first pong after subscribing means the next event will be heard.
    keepAlive: 50,
    on: { pong: () => (pongs += 1) === 1 && listening() },
  });
  const events = client.iterate({
    query: "subscription { notifications { kind subject { __typename id ... on Complaint { title } } } }",
  });
  const heard = events.next();
  await ready;
  const categories = await post("{ complaintCategories(first: 1) { edges { node { id } } } }");
  const submitted = await post(
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } errors { code } } }",
    { input: { complaint: { title: "实时通知", content: "订阅应当收到这条诉求。", categoryId: categories.complaintCategories.edges[0].node.id } } },
    residentToken,
  );
  check(submitted.submitComplaint.errors.length === 0, JSON.stringify(submitted.submitComplaint.errors));
  const { value } = await heard;
  check(!value.errors, JSON.stringify(value.errors));
  const note = value.data.notifications;
  check(note.kind === "COMPLAINT_NEW", `kind ${note.kind}`);
  check(note.subject.__typename === "Complaint" && note.subject.id === submitted.submitComplaint.complaint.id, JSON.stringify(note));
  check(note.subject.title === "实时通知", JSON.stringify(note));
  await events.return();
  await client.dispose();
}

try {
  const workerToken = await signIn(workerPhone);
  const residentToken = await signIn(residentPhone);
  await persistedQueries(workerToken);
  await subscription(workerToken, residentToken);
  console.log("1 passed, 0 failed");
  process.exit(0);
} catch (error) {
  console.error(error.stack ?? String(error));
  process.exit(1);
}
