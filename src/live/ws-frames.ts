import { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { FrameSink } from './channel';

/**
 * The `next` frames of one graphql-ws connection. Each frame is the result as the hub serialized
 * it, once for everyone sharing it, with the subscription id spliced in; and the frames one tick
 * hands out (the hub delivers a batch without pausing) are written together: the socket is
 * corked at the tick's first frame and uncorked after the tick, one write instead of one per
 * frame. What a tick corks counts as owed by the client (the socket's `bufferedAmount`), so one
 * batch larger than HUB_LIVE_MAX_BUFFER_BYTES for one connection ends it as a slow consumer
 * before it reaches the kernel's buffers, and the close frame follows closely. `raw` is the
 * upgraded socket the WebSocket writes to.
 */
export class WsFrames {
  private corked = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly raw: Duplex,
  ) {}

  /** The sink of subscription `id` (see Channel.attach). */
  sinkFor(id: string): FrameSink {
    const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    return { write: (frame) => this.send(`${head}${frame.json}}`) };
  }

  private send(text: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (!this.corked) {
      this.corked = true;
      this.raw.cork();
      process.nextTick(() => {
        this.corked = false;
        this.raw.uncork();
      });
    }
    this.socket.send(text);
  }
}
