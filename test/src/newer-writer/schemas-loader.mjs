// Module resolve hook for a "newer agent" process: the schemas package's generated list of shipped
// schema files is replaced by one that also holds a newer version, as a newer release would ship.
let generatedUrl;

export function initialize(data) {
  generatedUrl = data.generatedUrl;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (resolved.url.endsWith("/schemas/dist/internal/schemas.generated.js")) {
    return { ...resolved, url: generatedUrl, shortCircuit: true };
  }
  return resolved;
}
