// slam.solve on the smaller real pose graphs: certified, and equal to the
// reference optimum f* from the dataset README to a relative 1e-6. The larger
// files run in the slow project (tests/sesync-slow).
import { HAVE_DATA, checkDataset } from "./reference-optima.js";

const maybe = HAVE_DATA ? describe : describe.skip;

maybe("slam.solve matches the reference optimum f*", () => {
  test.each(["tinyGrid3D", "smallGrid3D", "MIT", "CSAIL", "intel", "kitti_05", "manhattan"])("%s", (file) => {
    checkDataset(file);
  }, 120_000);
});
