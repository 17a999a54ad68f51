// The ECharts the site loads: only what static/js/charts.js draws with the options the Go code
// (generator/site) emits. build.mjs reads the lists below to write the bundle's header, and
// generator/site's TestEChartsBundle checks that header against these lists and the options.
import { use, init, getInstanceByDom, format } from "echarts/core";
import { LineChart, BarChart, ScatterChart } from "echarts/charts";
import { GridComponent, TooltipComponent, LegendComponent, MarkLineComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

use([LineChart, BarChart, ScatterChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, CanvasRenderer]);

// charts.js uses the global, as with ECharts' own dist build.
window.echarts = { init, getInstanceByDom, format };
