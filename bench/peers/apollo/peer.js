// The Apollo peer's GraphQL layer: schema (the part of SEEK's schema the candidateProfile seed
// query reaches), resolvers over candex's SQLite file, partner-token verification and the
// ApplicationExport check. Loaded by server.js after NODE_ENV is set, because graphql-js reads
// NODE_ENV when it is first imported.

import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';

import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import Database from 'better-sqlite3';
import DataLoader from 'dataloader';
import { GraphQLError, GraphQLScalarType } from 'graphql';

// --- schema ------------------------------------------------------------------------------------

// Copied from SEEK's schema (/work/shared/reference/seek-export-subset.graphql): the types the
// seed query reaches, with the fields it selects (plus PersonName.formattedName), with SEEK's
// names, types and nullability.
export const typeDefs = /* GraphQL */ `
  scalar DateTime
  scalar HistoryDate

  type Query {
    candidateProfile(id: String!): CandidateProfile
  }

  type CandidateProfile {
    associatedPositionProfile: PositionProfile
    candidate: Candidate!
    certifications: [Certification!]!
    createDateTime: DateTime!
    education: [EducationAttendance!]!
    employment: [EmployerHistory!]!
    profileId: ObjectIdentifier!
    qualifications: [PersonCompetency!]!
  }

  type ObjectIdentifier {
    value: String!
  }

  type Candidate {
    person: CandidatePerson!
  }

  type CandidatePerson {
    communication: Communication!
    name: PersonName!
  }

  type PersonName {
    family: String
    formattedName: String!
    given: String
  }

  type Communication {
    email: [Email!]!
    phone: [Phone!]!
  }

  type Phone {
    formattedNumber: String!
  }

  type Email {
    address: String!
  }

  interface PositionProfile {
    positionOrganizations: [HiringOrganization!]!
    positionUri: String!
    seekHirerJobReference: String
  }

  type PostedPositionProfile implements PositionProfile {
    positionOrganizations: [HiringOrganization!]!
    positionUri: String!
    seekHirerJobReference: String
  }

  type HiringOrganization {
    id: ObjectIdentifier!
    name: String!
  }

  type EmployerHistory {
    organization: Organization!
    positionHistories: [PositionHistory!]!
  }

  type Organization {
    name: String!
  }

  type PositionHistory {
    end: HistoryDate
    start: HistoryDate!
    title: String!
  }

  type EducationAttendance {
    descriptions: [String!]!
    educationDegrees: [EducationDegree!]!
    institution: Organization!
  }

  type EducationDegree {
    date: HistoryDate
    degreeGrantedStatus: String!
    name: String!
  }

  type Certification {
    descriptions: [String!]!
    effectiveTimePeriod: EffectiveTimePeriod
    issued: HistoryDate
    issuingAuthority: Organization
    name: String!
  }

  type EffectiveTimePeriod {
    validTo: HistoryDate
  }

  type PersonCompetency {
    competencyName: String!
  }
`;

// Both scalars are strings on the wire; candex stores HistoryDate as text and the peer formats
// DateTime (unix ms) as RFC 3339 UTC with milliseconds, as candex does.
const stringScalar = (name) =>
  new GraphQLScalarType({
    name,
    serialize: (value) => value,
    parseValue: (value) => value,
    parseLiteral: (ast) => ast.value,
  });

// --- errors (candex's codes and messages) -----------------------------------------------------

const graphqlError = (message, extensions) => new GraphQLError(message, { extensions });

const unauthenticated = (message) => graphqlError(message, { code: 'UNAUTHENTICATED' });
const forbidden = (message) => graphqlError(message, { code: 'FORBIDDEN' });
const badUserInput = (pointer, message) =>
  graphqlError(`Invalid argument ${pointer}: ${message}`, {
    code: 'BAD_USER_INPUT',
    invalidFields: { [pointer]: message },
  });

const NO_TOKEN = 'No access token was provided: send Authorization: Bearer <partner token>';
const EXPIRED = 'The access token is expired; request a new one';
const INVALID = 'The access token is invalid';
const NOT_PARTNER = 'This operation needs a partner token; browser tokens cannot use it';
const NOT_AUTHORISED =
  'Not authorised to access this candidate profile: the partner needs the ApplicationExport relationship with its hirer';

// --- identifiers (candex_domain::ObjectId::parse_as) --------------------------------------------

const MAX_ID_BYTES = 255;
const MALFORMED_ID = 'must be an identifier of the form scheme:type:namespace:value of at most 255 bytes';
// Four non-empty segments of visible ASCII (0x21-0x7E) without ':' inside a segment.
const ID_SHAPE = /^[!-9;-~]+:[!-9;-~]+:[!-9;-~]+:[!-9;-~]+$/;

function isObjectId(value) {
  return value.length > 0 && Buffer.byteLength(value) <= MAX_ID_BYTES && ID_SHAPE.test(value);
}

/** The problem with `value` as an identifier of type `kind`, or null. */
function idProblem(value, kind, describe) {
  if (!isObjectId(value)) return MALFORMED_ID;
  if (value.split(':', 2)[1] !== kind) return `must be a ${describe} identifier`;
  return null;
}

// --- partner tokens (candex-server/src/auth/tokens.rs; jsonwebtoken 9 semantics) --------------

const TOKEN_TYPE = 'at+jwt';
const LEEWAY_SECONDS = 5;
const B64URL = /^[A-Za-z0-9_-]*$/;

class TokenError extends Error {
  constructor(expired) {
    super(expired ? 'expired' : 'invalid');
    this.expired = expired;
  }
}

function b64urlJson(segment) {
  if (!B64URL.test(segment) || segment.length % 4 === 1) throw new TokenError(false);
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TokenError(false);
    return value;
  } catch {
    throw new TokenError(false);
  }
}

const isString = (v) => typeof v === 'string';
const isInt = (v) => Number.isSafeInteger(v);
const isUint = (v) => Number.isSafeInteger(v) && v >= 0;
const optString = (v) => v === undefined || v === null || typeof v === 'string';
// jsonwebtoken's `iss`/`aud`: one string or a list of strings; anything else counts as missing.
const isStrings = (v) => typeof v === 'string' || (Array.isArray(v) && v.every(isString));

/**
 * Verifies an HS256 partner/browser token the way candex's TokenService::verify does: header
 * `alg` HS256 and `typ` at+jwt, signature, required exp/iss/aud/sub/nbf, exp and nbf with 5 s
 * leeway, iss and aud equal to the configured values, claim types, `sub` an identifier, and a
 * browser token naming its hirer (a partner token not).
 * Returns { partnerId, kind, hirerId } or throws TokenError.
 */
export function verifyToken(token, { secret, issuer, audience }) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenError(false);
  const [headerB64, payloadB64, signature] = parts;
  const header = b64urlJson(headerB64);
  if (header.alg !== 'HS256' || header.typ !== TOKEN_TYPE) throw new TokenError(false);
  const expected = createHmac('sha256', secret).update(`${headerB64}.${payloadB64}`).digest('base64url');
  if (
    signature.length !== expected.length ||
    !timingSafeEqual(Buffer.from(signature, 'latin1'), Buffer.from(expected, 'latin1'))
  ) {
    throw new TokenError(false);
  }
  const claims = b64urlJson(payloadB64);
  // Required spec claims, then time checks, then issuer and audience (jsonwebtoken's order).
  if (!isUint(claims.exp) || !isUint(claims.nbf) || !isString(claims.sub)) throw new TokenError(false);
  if (!isStrings(claims.iss) || !isStrings(claims.aud)) throw new TokenError(false);
  const now = Math.floor(Date.now() / 1000);
  if (claims.exp < now - LEEWAY_SECONDS) throw new TokenError(true);
  if (claims.nbf > now + LEEWAY_SECONDS) throw new TokenError(false);
  if (claims.iss !== issuer || claims.aud !== audience) throw new TokenError(false);
  // candex's Claims struct.
  if (!isInt(claims.iat) || !isString(claims.jti)) throw new TokenError(false);
  const kind = claims.cdx_kind;
  if (kind !== 'partner' && kind !== 'browser') throw new TokenError(false);
  if (!optString(claims.cdx_hirer) || !optString(claims.scope) || !optString(claims.cdx_uid)) {
    throw new TokenError(false);
  }
  if (!isObjectId(claims.sub)) throw new TokenError(false);
  const hirerId = claims.cdx_hirer ?? null;
  if (hirerId !== null && !isObjectId(hirerId)) throw new TokenError(false);
  if ((kind === 'browser') !== (hirerId !== null)) throw new TokenError(false);
  return { partnerId: claims.sub, kind, hirerId };
}

/** The token of an `Authorization: Bearer …` header (scheme case-insensitive), or null. */
function bearerToken(value) {
  if (typeof value !== 'string' || !/^[\x20-\x7e\t]*$/.test(value)) return null;
  const space = value.indexOf(' ');
  if (space < 0) return null;
  const token = value.slice(space + 1).trim();
  return value.slice(0, space).toLowerCase() === 'bearer' && token !== '' ? token : null;
}

// --- storage -----------------------------------------------------------------------------------

const PROFILE_COLUMNS =
  'p.profile_id, p.candidate_id, p.position_profile_id, p.hirer_id, p.created_at, p.updated_at, ' +
  'p.snapshot, p.candidate_sources';
const CANDIDATE_COLUMNS =
  'c.id as c_id, c.hirer_id as c_hirer_id, c.person as c_person, c.created_at as c_created_at, ' +
  'c.updated_at as c_updated_at';
const POSITION_COLUMNS =
  'pos.profile_id as pos_profile_id, pos.opening_id as pos_opening_id, pos.hirer_id as pos_hirer_id, ' +
  'pos.title as pos_title, pos.position_uri as pos_position_uri, ' +
  'pos.seek_hirer_job_reference as pos_seek_hirer_job_reference, pos.details as pos_details, ' +
  'pos.location_id as pos_location_id, pos.job_category_id as pos_job_category_id, ' +
  'pos.status as pos_status, pos.created_at as pos_created_at, pos.closed_at as pos_closed_at, ' +
  'pos.questionnaire as pos_questionnaire';
const HIRER_COLUMNS = 'h.id as h_id, h.name as h_name';

const BY_KEYS = 'in (select value from json_each(?))';

/**
 * Opens the database read-only and prepares every statement once.
 *
 * `loaders` mode (default, idiomatic Apollo): the root resolver reads the profile row; the
 * candidate, job ad and hirer are loaded by per-request DataLoaders (primary-key lookups, batched
 * with json_each when a request asks for several). `joined` mode runs candex's own statement (one
 * row of profiles ⋈ candidates ⋈ positions ⋈ hirers) and primes the loaders with it, so the
 * peer issues exactly candex's SQL (that statement plus the relationship lookup).
 */
export function openStore(path) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const sql = {
    profile: db.prepare(`select ${PROFILE_COLUMNS} from profiles p where p.profile_id = ?`),
    joined: db.prepare(
      `select p.profile_id, p.created_at, p.updated_at, p.snapshot, p.candidate_sources, ` +
        `${CANDIDATE_COLUMNS}, ${POSITION_COLUMNS}, h.name as pos_hirer_name ` +
        `from profiles p join candidates c on c.id = p.candidate_id ` +
        `join positions pos on pos.profile_id = p.position_profile_id ` +
        `join hirers h on h.id = pos.hirer_id where p.profile_id = ?`,
    ),
    relationships: db.prepare('select type_code from relationships where partner_id = ? and hirer_id = ?').pluck(),
    candidate: db.prepare(`select ${CANDIDATE_COLUMNS} from candidates c where c.id = ?`),
    candidates: db.prepare(`select ${CANDIDATE_COLUMNS} from candidates c where c.id ${BY_KEYS}`),
    position: db.prepare(`select ${POSITION_COLUMNS} from positions pos where pos.profile_id = ?`),
    positions: db.prepare(`select ${POSITION_COLUMNS} from positions pos where pos.profile_id ${BY_KEYS}`),
    hirer: db.prepare(`select ${HIRER_COLUMNS} from hirers h where h.id = ?`),
    hirers: db.prepare(`select ${HIRER_COLUMNS} from hirers h where h.id ${BY_KEYS}`),
    signingKey: db.prepare(
      'select kid, algorithm, secret from signing_keys order by created_at, kid limit 1',
    ),
  };
  return { db, sql };
}

// Row → record mappers (the fields the schema reads; JSON columns parsed as candex does).
const candidateRecord = (r) => ({ id: r.c_id, hirerId: r.c_hirer_id, person: JSON.parse(r.c_person) });
const positionRecord = (r) => ({
  profileId: r.pos_profile_id,
  hirerId: r.pos_hirer_id,
  positionUri: r.pos_position_uri,
  seekHirerJobReference: r.pos_seek_hirer_job_reference,
  details: JSON.parse(r.pos_details),
  questionnaire: r.pos_questionnaire === null ? null : JSON.parse(r.pos_questionnaire),
});
const hirerRecord = (r) => ({ id: r.h_id, name: r.h_name });
const profileRecord = (r, hirerId) => ({
  profileId: r.profile_id,
  candidateId: r.candidate_id ?? r.c_id,
  positionProfileId: r.position_profile_id ?? r.pos_profile_id,
  hirerId,
  createdAt: r.created_at,
  snapshot: JSON.parse(r.snapshot),
  candidateSources: JSON.parse(r.candidate_sources),
});

/** A DataLoader batch function: a point lookup for one key, json_each for several. */
function batchBy(one, many, keyOf, record, what) {
  return async (keys) => {
    if (keys.length === 1) {
      const row = one.get(keys[0]);
      return [row ? record(row) : new Error(`${what} ${keys[0]} not found`)];
    }
    const found = new Map();
    for (const row of many.all(JSON.stringify(keys))) found.set(keyOf(row), record(row));
    return keys.map((k) => found.get(k) ?? new Error(`${what} ${k} not found`));
  };
}

// --- resolvers ---------------------------------------------------------------------------------

const resolvers = {
  DateTime: stringScalar('DateTime'),
  HistoryDate: stringScalar('HistoryDate'),
  Query: {
    candidateProfile(_parent, { id }, ctx) {
      ctx.partner();
      const problem = idProblem(id, 'candidateProfile', 'candidate profile');
      if (problem) throw badUserInput('/id', problem);
      const profile = ctx.loadProfile(id);
      if (profile === null) return null;
      ctx.requireApplicationExport(profile.hirerId);
      return profile;
    },
  },
  CandidateProfile: {
    associatedPositionProfile: (p, _a, ctx) => ctx.loaders.position.load(p.positionProfileId),
    candidate: (p, _a, ctx) => ctx.loaders.candidate.load(p.candidateId),
    certifications: (p) => p.snapshot.certifications ?? [],
    createDateTime: (p) => new Date(p.createdAt).toISOString(),
    education: (p) => p.snapshot.education ?? [],
    employment: (p) => p.snapshot.employment ?? [],
    profileId: (p) => ({ value: p.profileId }),
    qualifications: (p) => p.snapshot.qualifications ?? [],
  },
  Candidate: {
    person: (c) => c.person,
  },
  Communication: {
    email: (c) => c.email ?? [],
    phone: (c) => c.phone ?? [],
  },
  PositionProfile: {
    __resolveType: () => 'PostedPositionProfile',
  },
  PostedPositionProfile: {
    positionOrganizations: async (pos, _a, ctx) => [await ctx.loaders.hirer.load(pos.hirerId)],
    positionUri: (pos) => pos.positionUri,
    seekHirerJobReference: (pos) => pos.seekHirerJobReference,
  },
  HiringOrganization: {
    id: (h) => ({ value: h.id }),
  },
  EducationAttendance: {
    descriptions: (e) => e.descriptions ?? [],
    educationDegrees: (e) => e.educationDegrees ?? [],
  },
  Certification: {
    descriptions: (c) => c.descriptions ?? [],
  },
};

// --- the signing key, sealed with the master key ------------------------------------------------

// candex stores its signing keys sealed with the operator's master key (issue 16):
// `cdxk1.<key id>.<base64url(nonce(24) ‖ ciphertext ‖ tag(16))>`, XChaCha20-Poly1305 with the
// associated data `candex signing key\0<kid>` (crates/candex-server/src/auth/master_key.rs). Node
// has ChaCha20-Poly1305 but not its extended-nonce form, so the subkey is derived here with
// HChaCha20 (RFC draft-irtf-cfrg-xchacha, section 2.2) and the rest is Node's cipher.

function hchacha20(key, nonce16) {
  const s = new Uint32Array(16);
  s.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) s[4 + i] = key.readUInt32LE(4 * i);
  for (let i = 0; i < 4; i++) s[12 + i] = nonce16.readUInt32LE(4 * i);
  const rotl = (v, n) => ((v << n) | (v >>> (32 - n))) >>> 0;
  const qr = (a, b, c, d) => {
    s[a] = (s[a] + s[b]) >>> 0; s[d] = rotl(s[d] ^ s[a], 16);
    s[c] = (s[c] + s[d]) >>> 0; s[b] = rotl(s[b] ^ s[c], 12);
    s[a] = (s[a] + s[b]) >>> 0; s[d] = rotl(s[d] ^ s[a], 8);
    s[c] = (s[c] + s[d]) >>> 0; s[b] = rotl(s[b] ^ s[c], 7);
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  const out = Buffer.alloc(32);
  [0, 1, 2, 3, 12, 13, 14, 15].forEach((w, i) => out.writeUInt32LE(s[w], 4 * i));
  return out;
}

/** The signing key's bytes: opened with `masterKey` (base64) when sealed, as stored otherwise. */
export function openSigningKey(stored, kid, masterKey) {
  const text = Buffer.from(stored).toString('latin1');
  if (!text.startsWith('cdxk1.')) return Buffer.from(stored);
  if (!masterKey) throw new Error('the signing key is sealed: set CANDEX_MASTER_KEY to the master key candex runs with');
  const blob = Buffer.from(text.split('.')[2], 'base64url');
  const nonce = blob.subarray(0, 24);
  const tag = blob.subarray(blob.length - 16);
  const ciphertext = blob.subarray(24, blob.length - 16);
  const subkey = hchacha20(Buffer.from(masterKey, 'base64'), nonce.subarray(0, 16));
  const iv = Buffer.concat([Buffer.alloc(4), nonce.subarray(16)]);
  const decipher = createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: 16 });
  decipher.setAAD(Buffer.concat([Buffer.from('candex signing key\0'), Buffer.from(kid)]), {
    plaintextLength: ciphertext.length,
  });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

// --- the per-request context -------------------------------------------------------------------

/**
 * Builds the Apollo server and the context function over the database at `path`.
 * `issuer`/`audience`: the candex token issuer and audience (candex's public URL by default).
 */
export function createPeer({ path, issuer, audience, sqlMode = 'loaders', httpServer }) {
  if (sqlMode !== 'loaders' && sqlMode !== 'joined') throw new Error(`unknown SQL mode ${sqlMode}`);
  const { db, sql } = openStore(path);

  // candex reads the current key once at start; it creates it on its first start, so a peer
  // started before candex ever ran looks again until the key exists.
  let key = null;
  const signingKey = () => {
    if (key === null) {
      const row = sql.signingKey.get();
      if (row) {
        if (row.algorithm !== 'HS256') throw new Error(`unsupported signing key algorithm ${row.algorithm}`);
        key = { secret: openSigningKey(row.secret, row.kid, process.env.CANDEX_MASTER_KEY), issuer, audience };
      }
    }
    return key;
  };
  signingKey();

  const loadProfile =
    sqlMode === 'joined'
      ? (ctx, id) => {
          const row = sql.joined.get(id);
          if (!row) return null;
          const candidate = candidateRecord(row);
          const position = positionRecord(row);
          ctx.loaders.candidate.prime(candidate.id, candidate);
          ctx.loaders.position.prime(position.profileId, position);
          ctx.loaders.hirer.prime(position.hirerId, { id: position.hirerId, name: row.pos_hirer_name });
          return profileRecord(row, position.hirerId);
        }
      : (_ctx, id) => {
          const row = sql.profile.get(id);
          return row ? profileRecord(row, row.hirer_id) : null;
        };

  const candidateBatch = batchBy(sql.candidate, sql.candidates, (r) => r.c_id, candidateRecord, 'candidate');
  const positionBatch = batchBy(sql.position, sql.positions, (r) => r.pos_profile_id, positionRecord, 'position');
  const hirerBatch = batchBy(sql.hirer, sql.hirers, (r) => r.h_id, hirerRecord, 'hirer');

  function context(authorization) {
    // Verified once per request, before execution (as candex's handler does); the resolver
    // reports the problem, so the error carries the field's path and location.
    let caller;
    const token = bearerToken(authorization);
    if (token === null) {
      caller = { error: NO_TOKEN };
    } else {
      const k = signingKey();
      try {
        caller = k === null ? { error: INVALID } : { token: verifyToken(token, k) };
      } catch (e) {
        if (!(e instanceof TokenError)) throw e;
        caller = { error: e.expired ? EXPIRED : INVALID };
      }
    }
    const relationships = new Map();
    const ctx = {
      loaders: {
        candidate: new DataLoader(candidateBatch),
        position: new DataLoader(positionBatch),
        hirer: new DataLoader(hirerBatch),
      },
      partner() {
        if (caller.error) throw unauthenticated(caller.error);
        if (caller.token.kind !== 'partner') throw forbidden(NOT_PARTNER);
        return caller.token.partnerId;
      },
      loadProfile: (id) => loadProfile(ctx, id),
      requireApplicationExport(hirerId) {
        let codes = relationships.get(hirerId);
        if (codes === undefined) {
          codes = sql.relationships.all(caller.token.partnerId, hirerId);
          relationships.set(hirerId, codes);
        }
        if (!codes.includes('ApplicationExport')) throw forbidden(NOT_AUTHORISED);
      },
    };
    return ctx;
  }

  const server = new ApolloServer({
    typeDefs,
    resolvers,
    introspection: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ...(httpServer ? [ApolloServerPluginDrainHttpServer({ httpServer })] : []),
    ],
  });
  return { server, context, db };
}
