import { z } from 'zod';

/** Stop settings every pagination style shares. */
const common = {
  /** An empty page ends the sync (default true). */
  stopOnEmptyPage: z.boolean().default(true),
  /** Dot path of a "has more" flag in the body; false ends the sync (Stripe `has_more`). */
  hasMorePath: z.string().optional(),
  /** Dot path of a "done" flag in the body; true ends the sync (Zendesk `end_of_stream`, Salesforce `done`). */
  donePath: z.string().optional(),
  /** Where the total record count is, for every style: a dot path in the body or a header (X-Total-Count). */
  totalPath: z.string().optional(),
  totalHeader: z.string().optional(),
  /** Hard cap on pages per run, a guard against providers that never stop. */
  maxPages: z.number().int().positive().optional(),
};

export const paginationSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none'), ...common }),
  z.strictObject({
    type: z.literal('page'),
    pageParam: z.string().default('page'),
    sizeParam: z.string().optional(),
    pageSize: z.number().int().positive().optional(),
    startPage: z.number().int().min(0).default(1),
    totalPagesPath: z.string().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('offset'),
    offsetParam: z.string().default('offset'),
    /** Where the page size is sent; `false`: not sent (the provider's own page size is pageSize). */
    limitParam: z.union([z.string().min(1), z.literal(false)]).default('limit'),
    pageSize: z.number().int().positive(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('cursor'),
    /**
     * Where the next cursor is — one of: a dot path in the body, a response header, or a field of the
     * page's last record (Stripe's `starting_after` is the last record's `id`).
     */
    cursorPath: z.string().optional(),
    cursorHeader: z.string().optional(),
    lastRecordPath: z.string().optional(),
    /** Query parameter the cursor is sent in. */
    param: z.string().default('cursor'),
    limitParam: z.string().optional(),
    pageSize: z.number().int().positive().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('link-header'),
    sizeParam: z.string().optional(),
    pageSize: z.number().int().positive().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('next-url'),
    /** Dot path of the absolute (or relative) URL of the next page in the body. */
    nextUrlPath: z.string(),
    ...common,
  }),
]);

export type PaginationConfig = z.infer<typeof paginationSchema>;
export type PaginationType = PaginationConfig['type'];
