import { z } from 'zod';
import { dotPath } from '../json/path.js';

/**
 * A test of the answer that ends the sync when true: a body value (`path`) or a header (`header`) checked
 * by one of `equals` (the exact JSON value, `null` included), `equalsPath` (another body value), `absent`
 * (the key is not there) or `lacks` (the text does not contain it; an absent value lacks everything).
 */
export const stopRuleSchema = z.strictObject({
  path: dotPath().min(1).optional(),
  header: z.string().min(1).optional(),
  equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  equalsPath: dotPath().min(1).optional(),
  absent: z.literal(true).optional(),
  lacks: z.string().min(1).optional(),
});
export type StopRule = z.infer<typeof stopRuleSchema>;

/** Stop settings every pagination style shares. */
const common = {
  /** Tests of each answer; the first that holds ends the sync (Airbyte stop conditions). */
  stopWhen: z.array(stopRuleSchema).optional(),
  /** An empty page ends the sync (default true). */
  stopOnEmptyPage: z.boolean().default(true),
  /** Dot path of a "has more" flag in the body; false ends the sync (Stripe `has_more`). */
  hasMorePath: dotPath().optional(),
  /** Dot path of a "done" flag in the body; true ends the sync (Zendesk `end_of_stream`, Salesforce `done`). */
  donePath: dotPath().optional(),
  /** Where the total record count is, for every style: a dot path in the body or a header (X-Total-Count). */
  totalPath: dotPath().optional(),
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
    totalPagesPath: dotPath().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('offset'),
    offsetParam: z.string().default('offset'),
    /** Where the page size is sent; `false`: not sent (the provider's own page size is pageSize). */
    limitParam: z.union([z.string().min(1), z.literal(false)]).default('limit'),
    /** Without a page size the offset still advances by the records read, and an empty page ends the sync. */
    pageSize: z.number().int().positive().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('cursor'),
    /**
     * Where the next cursor is — one of: a dot path in the body, a response header, or a field of the
     * page's last record (Stripe's `starting_after` is the last record's `id`).
     */
    cursorPath: dotPath().optional(),
    cursorHeader: z.string().optional(),
    lastRecordPath: dotPath().optional(),
    /**
     * A regular expression with one capture group: the cursor is what it captures in the value found
     * (a token inside a next URL, `[?&]page=(\d+)`); no match ends the sync.
     */
    cursorPattern: z.string().min(1).optional(),
    /** A number added to the (integer) value found: the next page is the answer's current page + 1. */
    cursorAdd: z.number().int().optional(),
    /** Query parameter the cursor is sent in. */
    param: z.string().default('cursor'),
    limitParam: z.string().optional(),
    pageSize: z.number().int().positive().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('link-header'),
    /** Follow the header's first link whatever its rel (an API whose Link holds only the next page). */
    firstLink: z.boolean().optional(),
    sizeParam: z.string().optional(),
    pageSize: z.number().int().positive().optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('next-url'),
    /** Dot path of the absolute (or relative) URL of the next page in the body… */
    nextUrlPath: dotPath().optional(),
    /** …or in the page's last record, or in a response header. */
    nextUrlRecordPath: dotPath().optional(),
    nextUrlHeader: z.string().min(1).optional(),
    ...common,
  }),
]);

export type PaginationConfig = z.infer<typeof paginationSchema>;
export type PaginationType = PaginationConfig['type'];
