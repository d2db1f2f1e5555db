// A Server-Sent Events parser (the WHATWG "event stream interpretation"),
// fed with text chunks as they arrive, so that the stream can run over
// fetch: fetch can send the Authorization and Last-Event-ID headers, which
// EventSource cannot.

/** Message is one dispatched event of the stream. */
export interface Message {
  id: string; // the last event id, as EventSource keeps it
  event: string; // "message" when the event has no name
  data: string;
}

/**
 * Parser turns chunks of an event stream into messages. The last id and
 * the retry delay survive between events, as the specification says.
 */
export class Parser {
  lastEventId = "";
  retry: number | undefined;
  private buf = "";
  private data: string[] = [];
  private event = "";
  private seenCR = false;

  constructor(private readonly onMessage: (m: Message) => void) {}

  /** push feeds the next chunk of text. */
  push(chunk: string): void {
    if (this.seenCR && chunk.startsWith("\n")) chunk = chunk.slice(1); // CRLF split between chunks
    this.seenCR = false;
    this.buf += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) return;
      if (m[0] === "\r" && m.index === this.buf.length - 1) {
        this.seenCR = true; // a CR at the end may be the start of a CRLF
      }
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) return; // a comment: the heartbeat
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.event = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
    }
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.event || "message";
    this.data = [];
    this.event = "";
    if (data.length === 0) return;
    this.onMessage({ id: this.lastEventId, event, data: data.join("\n") });
  }
}
