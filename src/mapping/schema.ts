import { z } from 'zod';

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'timestamp', 'json'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** One output field: a source dot path (`user.login`, `labels.0.name`), or a rule. */
export const fieldRuleSchema = z.union([
  z.string().min(1),
  z.strictObject({
    from: z.string().min(1).optional(),
    type: z.enum(FIELD_TYPES).optional(),
    /** A fixed value, whatever the provider sent. */
    const: z.unknown().optional(),
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
