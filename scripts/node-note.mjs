// Runs at `npm install`. The project's scripts run on the Node of the `node` devDependency
// (node_modules/.bin comes first on every npm script's PATH, this one's too), so the Node that runs
// npm itself, named in npm's user agent, only installs. .npmrc keeps npm to errors: its engine
// warnings, one per package that wants Node 22, would otherwise read as failures. Said once here.
const npmNode = /node\/(v(\d+)\S*)/.exec(process.env.npm_config_user_agent ?? "");
if (npmNode && Number(npmNode[2]) < 22) {
  console.log(
    `Node ${npmNode[1]} installs the packages; every npm script (start, test, bench) runs on the ` +
      "Node 22 that the `node` devDependency brings. npm's engine warnings are hidden (.npmrc loglevel=error).",
  );
}
