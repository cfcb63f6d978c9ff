import { z } from 'zod';
import { dotPath } from '../json/path.js';
import { regexSchema, scalarSchema, testCount } from '../json/value-test.js';
import { removePathProblem } from './remove-fields.js';

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'timestamp', 'json'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** One output field: a source dot path (`user.login`, `labels.0.name`), or a rule. */
export const fieldRuleSchema = z.union([
  dotPath().min(1),
  z.strictObject({
    from: dotPath().min(1).optional(),
    type: z.enum(FIELD_TYPES).optional(),
    /** A fixed value, whatever the provider sent. */
    const: z.unknown().optional(),
    /**
     * A computed value: a template over the record as sent (`{record.first} {record.last}`), the parent
     * (`{parent.param}`), the connection's config, the run's window (`{window.start}`, `{since}`) and
     * `{now}`, with the template filters. Exactly one placeholder keeps its type (`{parent.id}`).
     */
    value: z.string().optional(),
    /** Used when the source is missing or null. */
    default: z.unknown().optional(),
    /** Timestamps given as numbers: seconds or milliseconds since the epoch. */
    format: z.enum(['iso', 'unix', 'unix-ms']).optional(),
  }),
]);
export type FieldRule = z.infer<typeof fieldRuleSchema>;

export const fieldsSchema = z.record(z.string().min(1), fieldRuleSchema);
export type FieldsConfig = z.infer<typeof fieldsSchema>;

export const RECORD_FIELD_TYPES = [
  'string',
  'number',
  'integer',
  'boolean',
  'timestamp',
  'object',
  'array',
] as const;

/** Validation of mapped records: failing records are quarantined with the reason, the run goes on. */
export const recordSchemaSchema = z.record(
  z.string().min(1),
  z.strictObject({
    type: z.enum(RECORD_FIELD_TYPES),
    required: z.boolean().default(false),
    nullable: z.boolean().default(true),
  }),
);
export type RecordSchemaConfig = z.infer<typeof recordSchemaSchema>;

/**
 * One condition of a record filter, on the record as the provider sent it. Exactly one test: `equals`,
 * `in`, `matches` (a regular expression on the value as text) or `exists`; `not: true` inverts it.
 */
export const recordConditionSchema = z
  .strictObject({
    path: dotPath().min(1),
    equals: scalarSchema.optional(),
    in: z.array(scalarSchema).min(1).optional(),
    matches: regexSchema.optional(),
    exists: z.boolean().optional(),
    not: z.boolean().default(false),
  })
  .refine((c) => testCount(c) === 1, { message: 'give exactly one of equals, in, matches or exists' });
export type RecordCondition = z.infer<typeof recordConditionSchema>;

/** Records are kept when every condition holds; the others are skipped (not stored, not quarantined). */
export const recordFilterSchema = z.array(recordConditionSchema).min(1);

/**
 * Nested objects whose fields move to the top of the record before mapping (HubSpot's `properties`):
 * a dot path or a list of them. A top-level field of the same name wins.
 */
export const flattenSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/**
 * Fields dropped from every stored record (after mapping): dot paths, `*` segments before the last
 * one matching every list item or object value (`items.*.secret`).
 */
export const removeFieldsSchema = z
  .array(
    z.string().superRefine((p, ctx) => {
      const problem = removePathProblem(p);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  )
  .min(1);
