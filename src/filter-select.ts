/**
 * A filter drop-down as JupyterLab draws its own: `@jupyterlab/ui-components`'
 * HTMLSelect (its caret, font size and colours come from the theme's CSS variables).
 */
import { HTMLSelect, ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

export interface IFilterOption {
  value: string;
  label: string;
  /** The whole text, as a tooltip, when the label is shortened. */
  title?: string;
}

export class FilterSelect extends ReactWidget {
  constructor(
    private readonly _label: string,
    private readonly _onChange: (value: string) => void
  ) {
    super();
    this.addClass('seedance-filter');
  }

  get value(): string {
    return this._value;
  }

  /** New options; the value stays when it is still offered, else the first option. */
  setOptions(options: readonly IFilterOption[]): void {
    const key = options.map(o => `${o.value}\u0000${o.label}`).join('\n');
    if (key === this._key) {
      return;
    }
    this._key = key;
    this._options = options;
    if (!options.some(o => o.value === this._value)) {
      this._value = options[0]?.value ?? '';
    }
    this.update();
  }

  protected render(): React.ReactElement {
    return React.createElement(HTMLSelect, {
      'aria-label': this._label,
      title: this._label,
      value: this._value,
      options: this._options.map(o => ({
        value: o.value,
        label: o.label,
        title: o.title
      })),
      onChange: (event: React.ChangeEvent<HTMLSelectElement>) => {
        this._value = event.currentTarget.value;
        this.update();
        this._onChange(this._value);
      }
    });
  }

  private _options: readonly IFilterOption[] = [];
  private _value = '';
  private _key: string | null = null;
}
