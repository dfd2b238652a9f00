// traffic.mjs — steady traffic to the model server and the labels that come back later.
//
// `clients` concurrent loops send one email per KServe V2 request (`POST /v2/models/NAME/infer`), each with its
// own `x-request-id`, paced so that together they send `rate` requests a second. Before the drift every email is
// one of the champion's held-out SpamAssassin emails; after `injectDrift(share)` that share of requests is a fresh
// email of the new campaign. Every answer is counted (status, version, label); a request that did not get a 2xx
// (an error status, or no answer at all) is a failed request. The true label of each answered request is sent to
// the control plane's feedback endpoint `labelDelayMs` later, in batches, as a help desk would.
import { setTimeout as sleep } from "node:timers/promises";
import { campaignEmails, random as seeded } from "./campaign.mjs";

export class Traffic {
  constructor({ url, model, trackingUri, emails, clients, rate, labelDelayMs, seed = 1 }) {
    this.url = url.replace(/\/+$/, "");
    this.model = model;
    this.trackingUri = trackingUri.replace(/\/+$/, "");
    this.emails = emails;
    this.clients = clients;
    this.intervalMs = (1000 * clients) / rate;
    this.labelDelayMs = labelDelayMs;
    this.seed = seed;
    this.driftShare = 0;
    this.running = false;
    this.sent = 0;
    this.failed = 0;
    /** A few failures, for the report: { status, error }. */
    this.failures = [];
    /** Per answering version: requests, campaign emails, campaign emails called spam, old emails, right on old. */
    this.byVersion = new Map();
    /** The versions of the latest answers, newest last (for "only version N answers now"). */
    this.recent = [];
    this.labels = [];
    this.labelsSent = 0;
    this.labelErrors = 0;
    this.sequence = 0;
  }

  start() {
    this.running = true;
    this.loops = Array.from({ length: this.clients }, (_, i) => this.client(i));
    this.feedbackLoop = this.sendLabels();
  }

  /** From now on `share` of the requests are emails of the new campaign. */
  injectDrift(share) {
    this.driftShare = share;
  }

  /** Stops the clients, then sends the labels still waiting. */
  async stop() {
    this.running = false;
    await Promise.all(this.loops ?? []);
    await this.feedbackLoop;
    await this.flushLabels(Infinity);
  }

  async client(index) {
    let n = 0;
    let campaignSeed = this.seed * 1000 + index;
    const random = seeded(this.seed * 7919 + index);
    while (this.running) {
      const started = performance.now();
      const campaign = random() < this.driftShare;
      const email = campaign ? { text: campaignEmails(1, campaignSeed++)[0], label: "spam" } : this.nextEmail(random);
      await this.send(`${index}-${++n}`, email, campaign);
      const wait = this.intervalMs - (performance.now() - started);
      if (wait > 0 && this.running) await sleep(wait);
    }
  }

  /**
   * The next held-out email: the clients deal from one shuffled deck, so an email comes back only after all
   * the others were sent (a window full of repeats would look unlike the reference to a drift test).
   */
  nextEmail(random) {
    if (!this.deck?.length) {
      this.deck = [...this.emails];
      for (let i = this.deck.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [this.deck[i], this.deck[j]] = [this.deck[j], this.deck[i]];
      }
    }
    return this.deck.pop();
  }

  async send(suffix, email, campaign) {
    const id = `drift-retrain-${process.pid}-${suffix}`;
    this.sent++;
    let status = 0;
    let error;
    let body;
    try {
      const response = await fetch(`${this.url}/v2/models/${this.model}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": id },
        body: JSON.stringify({ inputs: [{ name: "text", shape: [1], datatype: "BYTES", data: [email.text] }] }),
      });
      status = response.status;
      body = await response.json().catch(() => undefined);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (status < 200 || status > 299) {
      this.failed++;
      if (this.failures.length < 10) this.failures.push({ status, error: error ?? JSON.stringify(body).slice(0, 200) });
      return;
    }
    const version = body?.model_version ?? "?";
    const predicted = body?.outputs?.find((o) => o.name === "label")?.data?.[0];
    const stats = this.byVersion.get(version) ?? { requests: 0, campaign: 0, caught: 0, old: 0, right: 0 };
    stats.requests++;
    if (campaign) {
      stats.campaign++;
      if (predicted === "spam") stats.caught++;
    } else {
      stats.old++;
      if (predicted === email.label) stats.right++;
    }
    this.byVersion.set(version, stats);
    this.recent.push(version);
    if (this.recent.length > 200) this.recent.splice(0, this.recent.length - 200);
    this.labels.push({ due: Date.now() + this.labelDelayMs, request_id: id, label: email.label });
  }

  async sendLabels() {
    while (this.running) {
      await sleep(250);
      await this.flushLabels(Date.now());
    }
  }

  /** Posts the labels due by `now` (a feedback error loses those labels and is counted, it stops nothing). */
  async flushLabels(now) {
    const due = [];
    while (this.labels.length > 0 && this.labels[0].due <= now) due.push(this.labels.shift());
    for (let i = 0; i < due.length; i += 5000) {
      const labels = due.slice(i, i + 5000).map(({ request_id, label }) => ({ request_id, label }));
      try {
        const response = await fetch(`${this.trackingUri}/api/2.0/slipway/feedback`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ labels }),
        });
        if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
        this.labelsSent += labels.length;
      } catch {
        this.labelErrors += labels.length;
      }
    }
  }

  /** Whether the last `n` answers all came from `version`. */
  onlyVersion(version, n) {
    return this.recent.length >= n && this.recent.slice(-n).every((v) => v === version);
  }
}
