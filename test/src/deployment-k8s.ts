import { join } from "node:path";
import { expect } from "chai";
import { INFRA, asArray, asRecord, asString, at, readYaml, readYamlDocuments } from "./deployment-files.js";

type Obj = Record<string, unknown>;

export const K8S = join(INFRA, "k8s");
export const TOPICS_SCRIPT = join(K8S, "create-topics.sh");
/** Node's own variable: the container sizes its heap with it; it is not a worker setting. */
export const NODE_RUNTIME_ENV = new Set(["NODE_OPTIONS"]);

export interface K8sObject {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly body: Obj;
}

export function k8sObject(file: string, document: unknown): K8sObject {
  const body = asRecord(document, file);
  const metadata = asRecord(body["metadata"], `${file} metadata`);
  return {
    file,
    apiVersion: asString(body["apiVersion"], `${file} apiVersion`),
    kind: asString(body["kind"], `${file} kind`),
    name: asString(metadata["name"], `${file} metadata.name`),
    namespace: metadata["namespace"] === undefined ? undefined : asString(metadata["namespace"], file),
    body,
  };
}

export function kustomization(dir: string): Obj {
  return asRecord(readYaml(join(dir, "kustomization.yaml")), `${dir}/kustomization.yaml`);
}

/** The objects `kubectl apply -k infra/k8s` creates, read from the files its kustomization lists. */
export function baseObjects(): K8sObject[] {
  const resources = asArray(kustomization(K8S)["resources"], "resources").map((r) => asString(r, "resource"));
  return resources.flatMap((file) => readYamlDocuments(join(K8S, file)).map((doc) => k8sObject(file, doc)));
}

export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ""}, found ${found.length}`);
  return found[0]!;
}

export function labelsMatch(selector: unknown, labels: unknown): boolean {
  const wanted = Object.entries(asRecord(selector, "selector"));
  const have = asRecord(labels, "labels");
  return wanted.length > 0 && wanted.every(([key, value]) => have[key] === value);
}

export function containers(podSpec: unknown): Obj[] {
  return asArray(at(podSpec, "containers"), "containers").map((c) => asRecord(c, "container"));
}

/** The environment a container gets, with ConfigMap and Secret references resolved; fieldRef values are null. */
export function containerEnv(container: Obj, objects: readonly K8sObject[]): Map<string, string | null> {
  const env = new Map<string, string | null>();
  const source = (kind: string, name: string): Obj => {
    const object = only(objects, kind, name).body;
    return asRecord(object["data"] ?? object["stringData"], `${kind} ${name} data`);
  };
  for (const from of asArray(container["envFrom"] ?? [], "envFrom")) {
    const ref = asRecord(from, "envFrom");
    const configMap = ref["configMapRef"];
    const secret = ref["secretRef"];
    const data =
      configMap !== undefined
        ? source("ConfigMap", asString(at(configMap, "name"), "configMapRef.name"))
        : source("Secret", asString(at(secret, "name"), "secretRef.name"));
    for (const [key, value] of Object.entries(data)) env.set(key, asString(value, key));
  }
  for (const item of asArray(container["env"] ?? [], "env")) {
    const entry = asRecord(item, "env");
    const name = asString(entry["name"], "env name");
    if (entry["value"] !== undefined) env.set(name, asString(entry["value"], name));
    else {
      const from = asRecord(entry["valueFrom"], `${name} valueFrom`);
      const keyRef = (from["configMapKeyRef"] ?? from["secretKeyRef"]) as Obj | undefined;
      if (keyRef === undefined) env.set(name, null);
      else {
        const kind = from["configMapKeyRef"] !== undefined ? "ConfigMap" : "Secret";
        const data = source(kind, asString(keyRef["name"], "name"));
        const key = asString(keyRef["key"], "key");
        expect(data, `${name} refers to ${kind} key ${key}`).to.have.property(key);
        env.set(name, asString(data[key], key));
      }
    }
  }
  return env;
}

export function quantityCores(value: unknown): number {
  const text = String(value);
  return text.endsWith("m") ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

export function quantityBytes(value: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(String(value));
  if (match === null) throw new Error(`not a memory quantity: ${String(value)}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ""] ?? 1;
  return Number(match[1]) * unit;
}
