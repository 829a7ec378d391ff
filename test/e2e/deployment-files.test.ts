import { join, relative } from "node:path";
import { expect } from "chai";
import {
  INFRA,
  REPO_ROOT,
  deploymentFiles,
  fileExists,
  isYamlFile,
  readJson,
  readText,
  readYamlDocuments,
} from "../src/deployment-files.js";
import { WORKER_CLI, cliCommand, cliCommands, requireBuiltCli } from "../src/deployment-sources.js";
import type { CliCommand } from "../src/deployment-sources.js";

describe("deployment artifacts (infra/)", function () {
  let commands: string[];
  let workerCommand: CliCommand;

  before(function () {
    requireBuiltCli();
    commands = cliCommands();
    workerCommand = cliCommand("worker");
  });

  describe("files", function () {
    it("every YAML file parses and the JSON dashboard parses", function () {
      const files = deploymentFiles();
      const yamlFiles = files.filter(isYamlFile);
      expect(yamlFiles.map((f) => relative(INFRA, f))).to.include.members([
        "docker-compose.yml",
        "k8s/kustomization.yaml",
        "alerts/tracehouse-alerts.yaml",
      ]);
      for (const file of yamlFiles)
        expect(readYamlDocuments(file), relative(INFRA, file)).to.have.length.above(0);
      for (const file of files.filter((f) => f.endsWith(".json")))
        expect(() => readJson(file)).to.not.throw();
    });

    it("the Dockerfile builds every package the CLI needs and runs the worker through it", function () {
      const dockerfile = readText(join(INFRA, "Dockerfile"));
      const entrypoint = /^ENTRYPOINT\s+(\[.*\])$/m.exec(dockerfile)?.[1];
      const cmd = /^CMD\s+(\[.*\])$/m.exec(dockerfile)?.[1];
      expect(JSON.parse(entrypoint ?? "null")).to.deep.equal(["node", relative(REPO_ROOT, WORKER_CLI)]);
      expect(commands).to.include((JSON.parse(cmd ?? "[]") as string[])[0]);
      expect(/^EXPOSE\s+(\d+)$/m.exec(dockerfile)?.[1]).to.equal(
        workerCommand.options.get("--health-port")?.defaultValue,
      );
      expect(dockerfile).to.match(/^FROM node:20\S* AS build$/m);

      // Runtime packages: @tracehouse/cli and its @tracehouse dependencies, each with its "files".
      const copied = /for pkg in ([a-z ]+); do/.exec(dockerfile)?.[1]?.split(" ") ?? [];
      const needed = new Set<string>();
      const visit = (dir: string): void => {
        if (needed.has(dir)) return;
        needed.add(dir);
        const pkg = readJson(join(REPO_ROOT, "packages", dir, "package.json")) as {
          dependencies?: Record<string, string>;
        };
        for (const dep of Object.keys(pkg.dependencies ?? {})) {
          if (dep.startsWith("@tracehouse/")) visit(dep.slice("@tracehouse/".length));
        }
      };
      visit("cli");
      expect(copied).to.have.members([...needed]);
      for (const dir of needed) {
        const { files } = readJson(join(REPO_ROOT, "packages", dir, "package.json")) as { files: string[] };
        for (const entry of files.filter((f) => f !== "dist")) {
          expect(dockerfile, `packages/${dir}/${entry}`).to.include(`packages/${dir}/${entry} `);
        }
      }
      for (const copy of dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)) {
        expect(fileExists(join(REPO_ROOT, copy[1]!)), copy[1]).to.equal(true);
      }
    });
  });
});
