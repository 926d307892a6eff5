#include "data/DatasetStatsPanel.h"

#include "data/InteractionTableModel.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QGridLayout>
#include <QLabel>
#include <QLineSeries>
#include <QLocale>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QTimeZone>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>

namespace reclab {

namespace {

QChartView* makeView(const QString& title)
{
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->legend()->hide();
    chart->setMargins(QMargins(4, 4, 4, 4));
    auto* view = new QChartView(chart);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumSize(280, 200);
    return view;
}

void resetChart(QChart* chart)
{
    chart->removeAllSeries();
    for (QAbstractAxis* axis : chart->axes()) {
        chart->removeAxis(axis);
        delete axis;
    }
}

QLogValueAxis* logAxis(const QString& title, double max)
{
    auto* axis = new QLogValueAxis;
    axis->setTitleText(title);
    axis->setBase(10);
    axis->setLabelFormat(QStringLiteral("%g"));
    axis->setRange(0.8, std::max(10.0, max * 1.5));
    return axis;
}

// What looks wrong in the data, in the warning colour, after the figures.
QString problemsText(const DatasetSummary& s)
{
    QStringList lines;
    if (s.stats.repeatedRows > 0)
        lines << DatasetStatsPanel::tr("%n row(s) repeat a (user, item) pair of an earlier row: the ranking protocols "
                                       "need them removed or kept on purpose (Repeated pairs in the run setup)",
                                       nullptr, static_cast<int>(std::min<size_t>(s.stats.repeatedRows, INT32_MAX)));
    for (const auto& w : s.warnings)
        lines << QString::fromStdString(w);
    if (lines.isEmpty())
        return {};
    QStringList escaped;
    for (const QString& line : lines)
        escaped << line.toHtmlEscaped();
    return QStringLiteral("<br><span style=\"color:#b45309\">&#9888; %1</span>").arg(escaped.join(QStringLiteral("<br>&#9888; ")));
}

} // namespace

DatasetStatsPanel::DatasetStatsPanel(QWidget* parent) : QWidget(parent)
{
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("statsSummary"));
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    rating_ = makeView(tr("Ratings"));
    popularity_ = makeView(tr("Item popularity (long tail)"));
    activity_ = makeView(tr("User activity"));
    time_ = makeView(tr("Interactions per month"));
    auto* grid = new QGridLayout;
    grid->addWidget(rating_, 0, 0);
    grid->addWidget(popularity_, 0, 1);
    grid->addWidget(activity_, 1, 0);
    grid->addWidget(time_, 1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(summary_);
    layout->addLayout(grid, 1);
}

QString DatasetStatsPanel::summaryText() const { return summary_->text(); }
QChart* DatasetStatsPanel::ratingChart() const { return rating_->chart(); }
QChart* DatasetStatsPanel::popularityChart() const { return popularity_->chart(); }
QChart* DatasetStatsPanel::activityChart() const { return activity_->chart(); }
QChart* DatasetStatsPanel::timeChart() const { return time_->chart(); }

void DatasetStatsPanel::clear(const QString& message)
{
    summary_->setText(message);
    for (QChartView* v : {rating_, popularity_, activity_, time_})
        resetChart(v->chart());
}

void DatasetStatsPanel::setSummary(const QString& name, const DatasetSummary& s)
{
    const QLocale locale = QLocale::system();
    const DatasetStats& st = s.stats;
    summary_->setText(tr("<b>%1</b> &nbsp; %2 users · %3 items · %4 interactions · density %5% · ratings %6 to %7 · %8 to %9")
                          .arg(name.toHtmlEscaped(), locale.toString(st.users), locale.toString(st.items),
                               locale.toString(static_cast<qulonglong>(st.interactions)))
                          .arg(st.density * 100.0, 0, 'g', 3)
                          .arg(static_cast<double>(st.ratingMin))
                          .arg(static_cast<double>(st.ratingMax))
                          .arg(formatTime(st.firstTimestamp).left(10), formatTime(st.lastTimestamp).left(10)) +
                      problemsText(s));

    // Rating histogram: one bar per distinct value (implicit data has a single bar at 1).
    QChart* chart = rating_->chart();
    resetChart(chart);
    auto* set = new QBarSet(tr("interactions"));
    QStringList labels;
    double maxCount = 0;
    for (const auto& [value, count] : s.ratingHistogram) {
        *set << static_cast<double>(count);
        labels << QString::number(static_cast<double>(value));
        maxCount = std::max(maxCount, static_cast<double>(count));
    }
    auto* bars = new QBarSeries;
    bars->append(set);
    chart->addSeries(bars);
    auto* categories = new QBarCategoryAxis;
    categories->append(labels);
    categories->setTitleText(tr("rating"));
    auto* counts = new QValueAxis;
    counts->setRange(0, maxCount * 1.05);
    counts->setLabelFormat(QStringLiteral("%.0f"));
    counts->applyNiceNumbers();
    chart->addAxis(categories, Qt::AlignBottom);
    chart->addAxis(counts, Qt::AlignLeft);
    bars->attachAxis(categories);
    bars->attachAxis(counts);

    // Long tail: interactions of the item at each popularity rank, log-log, thinned to log-spaced ranks.
    chart = popularity_->chart();
    resetChart(chart);
    auto* tail = new QLineSeries;
    const size_t items = s.itemPopularity.size();
    for (double rank = 1; rank <= static_cast<double>(items); rank = std::max(rank + 1, rank * 1.02))
        tail->append(rank, s.itemPopularity[static_cast<size_t>(rank) - 1]);
    if (items > 0)
        tail->append(static_cast<double>(items), s.itemPopularity.back());
    chart->addSeries(tail);
    auto* rankAxis = logAxis(tr("item rank"), static_cast<double>(items));
    auto* countAxis = logAxis(tr("interactions"), items ? s.itemPopularity.front() : 1);
    chart->addAxis(rankAxis, Qt::AlignBottom);
    chart->addAxis(countAxis, Qt::AlignLeft);
    tail->attachAxis(rankAxis);
    tail->attachAxis(countAxis);

    // User activity: how many users have n interactions, log-log.
    chart = activity_->chart();
    resetChart(chart);
    auto* dots = new QScatterSeries;
    dots->setMarkerSize(5);
    double maxN = 1, maxUsers = 1;
    for (const auto& [n, users] : s.userActivity) {
        dots->append(n, users);
        maxN = std::max(maxN, static_cast<double>(n));
        maxUsers = std::max(maxUsers, static_cast<double>(users));
    }
    chart->addSeries(dots);
    auto* nAxis = logAxis(tr("interactions per user"), maxN);
    auto* usersAxis = logAxis(tr("users"), maxUsers);
    chart->addAxis(nAxis, Qt::AlignBottom);
    chart->addAxis(usersAxis, Qt::AlignLeft);
    dots->attachAxis(nAxis);
    dots->attachAxis(usersAxis);

    // Interactions per month.
    chart = time_->chart();
    resetChart(chart);
    auto* months = new QLineSeries;
    double maxMonth = 0;
    for (const auto& [start, count] : s.perMonth) {
        months->append(static_cast<double>(start) * 1000.0, static_cast<double>(count));
        maxMonth = std::max(maxMonth, static_cast<double>(count));
    }
    chart->addSeries(months);
    auto* timeAxis = new QDateTimeAxis;
    timeAxis->setFormat(s.perMonth.size() > 36 ? QStringLiteral("yyyy") : QStringLiteral("MMM yyyy"));
    if (!s.perMonth.empty())
        timeAxis->setRange(QDateTime::fromSecsSinceEpoch(s.perMonth.front().first, QTimeZone::utc()),
                           QDateTime::fromSecsSinceEpoch(s.perMonth.back().first + 31 * 86400, QTimeZone::utc()));
    timeAxis->setTickCount(6);
    auto* monthAxis = new QValueAxis;
    monthAxis->setRange(0, maxMonth * 1.05);
    monthAxis->setLabelFormat(QStringLiteral("%.0f"));
    monthAxis->applyNiceNumbers();
    chart->addAxis(timeAxis, Qt::AlignBottom);
    chart->addAxis(monthAxis, Qt::AlignLeft);
    months->attachAxis(timeAxis);
    months->attachAxis(monthAxis);
}

} // namespace reclab
