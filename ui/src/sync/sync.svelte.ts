import type { Backend } from '../backend/backend';
import type { SyncState } from '../backend/types';

/** Follows the backend's sync state: often while a sync runs, slowly otherwise. */
export class SyncMonitor {
  state = $state<SyncState | null>(null);
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly backend: Backend) {}

  get busy(): boolean {
    const p = this.state?.phase;
    return p === 'connecting' || p === 'pushing' || p === 'pulling';
  }

  start(): void {
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async syncNow(): Promise<void> {
    this.state = await this.backend.syncNow();
    this.schedule();
  }

  private async poll(): Promise<void> {
    try {
      this.state = await this.backend.syncState();
    } catch {
      // locked or not enrolled: keep the last state
    }
    this.schedule();
  }

  private schedule(): void {
    this.stop();
    this.timer = setTimeout(() => void this.poll(), this.busy ? 250 : 5000);
  }
}
