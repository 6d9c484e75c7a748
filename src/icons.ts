import { LabIcon } from '@jupyterlab/ui-components';

import seedanceSvg from '../style/icons/seedance.svg';

export const seedanceIcon = new LabIcon({
  name: 'seedance-jupyter:seedance',
  svgstr: seedanceSvg
});
