let probe: Promise<boolean> | undefined;

/** True when testcontainers can reach a container engine; probed once per process. */
export function dockerAvailable(): Promise<boolean> {
  probe ??= import("testcontainers").then(
    ({ getContainerRuntimeClient }) =>
      getContainerRuntimeClient().then(
        () => true,
        () => false,
      ),
    () => false,
  );
  return probe;
}
