/**
 * Pages of search-runs for the runs table, fetched as the person scrolls: a small first page (the first rows
 * show at once), then larger ones, following next_page_token. Not React state: the table subscribes.
 */
import { searchRuns, type Run, type SearchRunsRequest } from "../api.js";

export class RunPager {
  runs: Run[] = [];
  done = false;
  loading = false;
  error: Error | undefined;
  /** Bumped on every change, for React to notice. */
  version = 0;
  private token: string | undefined;
  private readonly controller = new AbortController();

  constructor(
    private readonly request: Omit<SearchRunsRequest, "page_token" | "max_results">,
    private readonly onChange: () => void,
  ) {}

  /** Fetches the next page unless one is on its way or there is none. */
  loadMore(): void {
    if (this.loading || this.done || this.controller.signal.aborted) return;
    this.loading = true;
    this.error = undefined;
    this.changed();
    const size = this.runs.length === 0 ? 100 : Math.min(5000, Math.max(1000, Math.floor(this.runs.length / 2)));
    searchRuns(
      { ...this.request, max_results: size, ...(this.token ? { page_token: this.token } : {}) },
      this.controller.signal,
    ).then(
      (page) => {
        const runs = page.runs ?? [];
        for (const run of runs) this.runs.push(run);
        this.token = page.next_page_token;
        this.done = !page.next_page_token || runs.length === 0;
        this.loading = false;
        this.changed();
      },
      (error: unknown) => {
        if (this.controller.signal.aborted) return;
        this.loading = false;
        this.error = error instanceof Error ? error : new Error(String(error));
        this.changed();
      },
    );
  }

  /** Drops runs that were deleted or restored from this page. */
  remove(ids: ReadonlySet<string>): void {
    this.runs = this.runs.filter((r) => !ids.has(r.info.run_id));
    this.changed();
  }

  close(): void {
    this.controller.abort();
  }

  private changed(): void {
    this.version++;
    this.onChange();
  }
}
