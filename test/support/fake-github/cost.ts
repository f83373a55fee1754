/**
 * GitHub's static GraphQL query analysis, done before execution like GitHub does:
 * pagination bounds (first/last required, at most 100), the 500,000 node limit, and the
 * rate-limit cost ("Add up the number of requests needed to fulfil each connection, assuming every
 * request reaches its first/last limit; divide by 100 and round; minimum 1").
 * https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
 */
import { Kind, getNamedType, isCompositeType, isInterfaceType, isObjectType } from "graphql";
import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLCompositeType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
} from "graphql";

/** GitHub's per-connection page cap and per-query node cap. */
export const MAX_PAGE_SIZE = 100;
export const MAX_NODES = 500_000;
/** `nodes(ids:)` takes at most this many ids ("You may not provide more than 100 node ids"). */
export const MAX_NODE_IDS = 100;
/** Requests are divided by this to get points. */
const REQUESTS_PER_POINT = 100;

export interface QueryError {
  type: string;
  message: string;
  path?: string[];
  locations?: { line: number; column: number }[];
}

export interface QueryAnalysis {
  cost: number;
  /** The most nodes the query can return (rateLimit.nodeCount). */
  nodeCount: number;
  errors: QueryError[];
  /** Whether the query asked for rateLimit(dryRun: true): cost it, do not run or charge it. */
  dryRun: boolean;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  defaults: Map<string, ValueNode>;
  requests: number;
  nodes: number;
  dryRun: boolean;
  errors: QueryError[];
}

export function analyzeQuery(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): QueryAnalysis {
  const walk: Walk = {
    schema,
    fragments: new Map(),
    variables,
    defaults: new Map(),
    requests: 0,
    nodes: 0,
    dryRun: false,
    errors: [],
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) walk.fragments.set(definition.name.value, definition);
  }
  for (const variable of operation.variableDefinitions ?? []) {
    if (variable.defaultValue !== undefined)
      walk.defaults.set(variable.variable.name.value, variable.defaultValue);
  }
  const root = operation.operation === "mutation" ? schema.getMutationType() : schema.getQueryType();
  if (root) visitSelections(walk, operation.selectionSet, root, 1, []);
  const cost = Math.max(1, Math.round(walk.requests / REQUESTS_PER_POINT));
  return { cost, nodeCount: walk.nodes, errors: walk.errors, dryRun: walk.dryRun };
}

function visitSelections(
  walk: Walk,
  selectionSet: SelectionSetNode,
  parent: GraphQLCompositeType,
  multiplier: number,
  path: string[],
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      visitField(walk, selection, parent, multiplier, path);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? walk.schema.getType(selection.typeCondition.name.value) : parent;
      if (type && isCompositeType(type))
        visitSelections(walk, selection.selectionSet, type, multiplier, path);
    } else {
      const fragment = walk.fragments.get(selection.name.value);
      const type = fragment ? walk.schema.getType(fragment.typeCondition.name.value) : undefined;
      if (fragment && type && isCompositeType(type)) {
        visitSelections(walk, fragment.selectionSet, type, multiplier, path);
      }
    }
  }
}

function visitField(
  walk: Walk,
  field: FieldNode,
  parent: GraphQLCompositeType,
  multiplier: number,
  path: string[],
): void {
  const name = field.name.value;
  if (!isObjectType(parent) && !isInterfaceType(parent)) return; // unions only carry __typename
  const definition = parent.getFields()[name];
  if (definition === undefined) return;
  const fieldPath = [...path, field.alias?.value ?? name];
  if (name === "rateLimit" && argument(walk, field, "dryRun") === true) walk.dryRun = true;

  const type = getNamedType(definition.type);
  let childMultiplier = multiplier;
  if (name === "nodes" && parent === walk.schema.getQueryType()) {
    // Every object `nodes(ids:)` returns is fetched on its own, so each connection below it is one
    // request per id, as below a connection's `first` objects.
    const ids = argument(walk, field, "ids");
    const count = Array.isArray(ids) ? ids.length : 0;
    if (count > MAX_NODE_IDS) {
      walk.errors.push({
        type: "ARGUMENT_LIMIT",
        path: fieldPath,
        message: `You may not provide more than ${MAX_NODE_IDS} node ids; you provided ${count}.`,
      });
      return;
    }
    childMultiplier = multiplier * count;
  }
  const isConnection =
    isObjectType(type) &&
    type.getFields()["pageInfo"] !== undefined &&
    definition.args.some((a) => a.name === "first") &&
    definition.args.some((a) => a.name === "last");
  if (isConnection) {
    const first = argument(walk, field, "first");
    const last = argument(walk, field, "last");
    const location = field.loc
      ? [{ line: field.loc.startToken.line, column: field.loc.startToken.column }]
      : [];
    const size = typeof first === "number" ? first : typeof last === "number" ? last : undefined;
    if (size === undefined) {
      walk.errors.push({
        type: "MISSING_PAGINATION_BOUNDARIES",
        path: fieldPath,
        locations: location,
        message: `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
      });
      return;
    }
    for (const [argName, value] of [
      ["first", first],
      ["last", last],
    ] as const) {
      if (typeof value === "number" && (value > MAX_PAGE_SIZE || value < 0)) {
        walk.errors.push({
          type: "EXCESSIVE_PAGINATION",
          path: fieldPath,
          locations: location,
          message:
            value < 0
              ? `\`${argName}\` on the \`${name}\` connection cannot be less than zero.`
              : `Requesting ${value} records on the \`${name}\` connection exceeds the \`${argName}\` limit of ${MAX_PAGE_SIZE} records.`,
        });
      }
    }
    walk.requests += multiplier;
    childMultiplier = multiplier * size;
    const before = walk.nodes;
    walk.nodes += childMultiplier;
    if (walk.nodes > MAX_NODES && before <= MAX_NODES) {
      walk.errors.push({
        type: "MAX_NODE_LIMIT_EXCEEDED",
        message:
          `By the time this query traverses to the ${name} connection, it is requesting up to ` +
          `${walk.nodes.toLocaleString("en-US")} possible nodes which exceeds the maximum limit of ` +
          `${MAX_NODES.toLocaleString("en-US")}.`,
      });
    }
  }
  if (field.selectionSet && isCompositeType(type)) {
    visitSelections(walk, field.selectionSet, type, childMultiplier, fieldPath);
  }
}

/** A literal or variable argument value, with variable defaults applied. */
function argument(walk: Walk, field: FieldNode, name: string): unknown {
  const node = field.arguments?.find((a) => a.name.value === name)?.value;
  return node === undefined ? undefined : literal(walk, node);
}

function literal(walk: Walk, node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.INT:
      return Number.parseInt(node.value, 10);
    case Kind.BOOLEAN:
      return node.value;
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((value) => literal(walk, value));
    case Kind.VARIABLE: {
      const value = walk.variables[node.name.value];
      if (value !== undefined) return value;
      const fallback = walk.defaults.get(node.name.value);
      return fallback === undefined ? undefined : literal(walk, fallback);
    }
    default:
      return undefined;
  }
}
